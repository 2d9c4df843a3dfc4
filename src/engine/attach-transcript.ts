import { adapterFor } from '../agents/registry.js';
import type { RunRow } from '../store/runs.js';
import type { EngineContext } from './context.js';
import type { LiveRun } from './live-run.js';
import { requestStop } from './monitors.js';
import { TranscriptTail } from './transcript.js';

/** Starts parsing a live run's output into stored events, from where parsing last stopped. */
export function attachTranscript(ctx: EngineContext, live: LiveRun, run: RunRow): void {
  const agent = ctx.app.config.agents[run.agent];
  if (!agent) return;
  const tail = new TranscriptTail(
    ctx,
    run,
    live.init.runDir,
    () => live.token,
    adapterFor(run.agent, agent),
    (v) => {
      if (live.stopRequested || live.hasExited) return;
      requestStop(ctx, live, v.action, v.reason).catch((e) =>
        ctx.log.warn(`stopping run ${run.id}: ${(e as Error).message}`),
      );
    },
    agent.stop_on_auth_error,
  );
  live.transcript = tail;
  tail.start();
}
