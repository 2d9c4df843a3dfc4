import { adapterFor } from '../agents/registry.js';
import type { RunRow } from '../store/runs.js';
import { sessionTotalsBefore } from '../store/runs.js';
import type { EngineContext } from './context.js';
import type { LiveRun } from './live-run.js';
import { requestStop } from './monitors.js';
import { parseSessionTotals } from './run-usage.js';
import { describeDiagnosis } from './run-verdict.js';
import { StderrWatch } from './stderr-watch.js';
import { TranscriptTail } from './transcript.js';

/** Starts parsing a live run's output into stored events, from where parsing last stopped. */
export function attachTranscript(ctx: EngineContext, live: LiveRun, run: RunRow): void {
  const agent = ctx.app.config.agents[run.agent];
  if (!agent) return;
  const adapter = adapterFor(run.agent, agent);
  const baseline = run.resume_session_id
    ? sessionTotalsBefore(ctx.app.store.db, run).then(parseSessionTotals, () => null)
    : Promise.resolve(null);
  const tail = new TranscriptTail(
    ctx,
    run,
    live.init.runDir,
    () => live.token,
    adapter,
    baseline,
    (v) => {
      if (live.stopRequested || live.hasExited) return;
      requestStop(ctx, live, v.action, v.reason).catch((e) =>
        ctx.log.warn(`stopping run ${run.id}: ${(e as Error).message}`),
      );
    },
    (d) =>
      agent.stop_on_auth_error
        ? describeDiagnosis(run.agent, adapter.kind, live.cliVersion ?? run.cli_version, d)
        : null,
  );
  live.transcript = tail;
  tail.start();
  if (adapter.stderrParser) {
    live.stderrWatch = new StderrWatch(live.init.runDir, adapter.stderrParser(), (e) =>
      tail.acceptStderr(e),
    );
  }
}
