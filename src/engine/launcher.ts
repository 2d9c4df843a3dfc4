import path from 'node:path';
import { versionOfFile } from '../agents/cli-version.js';
import { adapterFor, readToken } from '../agents/registry.js';
import { finishRun } from '../app/finish-run.js';
import { applyProfile } from '../app/profile.js';
import { releaseClaim } from '../app/release-run.js';
import { postRunStart } from '../app/run-messages.js';
import { newRunToken } from '../app/run-token.js';
import { prepareRunWorkspace, type RunWorkspace } from '../app/workspaces.js';
import { runDir as runDirOf } from '../config/home.js';
import { agentCommand } from '../config/schema.js';
import { classifyExit } from '../domain/exit.js';
import { stepRun } from '../domain/run.js';
import { resolveCommand } from '../runner/resolve-command.js';
import type { Spawned } from '../runner/spawner.js';
import { appendEvent } from '../store/events.js';
import { type RunRow, updateRunFenced } from '../store/runs.js';
import { withSetup } from '../workspace/setup.js';
import { agentEnv } from './agent-env.js';
import { attachTranscript } from './attach-transcript.js';
import { ensureCliShim } from './cli-shim.js';
import type { EngineContext } from './context.js';
import { finalizeLiveRun } from './finalize.js';
import { LiveRun } from './live-run.js';
import { attachShipper } from './output-shipper.js';

/**
 * Starts a run this worker has just claimed: build the agent's argv and
 * environment, spawn it under the supervisor shim, then record the process
 * identity (fenced by the lease token).
 */
export function launchRun(ctx: EngineContext, run: RunRow): Promise<void> {
  const launch = launchClaimed(ctx, run);
  ctx.settling.add(launch);
  return launch.finally(() => ctx.settling.delete(launch));
}

async function launchClaimed(ctx: EngineContext, run: RunRow): Promise<void> {
  const { app } = ctx;
  const token = run.lease_token as number;
  const fail = (facts: Parameters<typeof classifyExit>[0]) => {
    const v = classifyExit(facts);
    return finishRun(app, run.id, token, {
      state: 'failed',
      exitCode: null,
      exitSignal: null,
      reason: v.reason,
      retryable: v.retryable,
      stderrTail: '',
      complete: false,
      verified: false,
    });
  };
  const agent = app.config.agents[run.agent];
  if (!agent) {
    await fail({ kind: 'spawn_error', message: `agent "${run.agent}" is no longer configured` });
    return;
  }
  const dir = runDirOf(app.paths, run.id);
  let ws: RunWorkspace;
  try {
    ws = await prepareRunWorkspace(app, run, agent);
  } catch (e) {
    await fail({ kind: 'spawn_error', message: (e as Error).message });
    return;
  }
  // The run's own API token: the agent holds it, the row its hash (app/run-token.ts).
  const runToken = newRunToken(run.id);
  const ok = await app.store.tx((tx) =>
    updateRunFenced(tx, run.id, token, {
      api_token_hash: runToken.hash,
      ...(ws.mode !== 'shared' ? { workdir: ws.cwd, commit_before: ws.commitBefore } : {}),
    }),
  );
  if (!ok) return; // cancelled or taken over meanwhile: not this worker's to start
  const cwd = ws.cwd;
  let spawned: Spawned;
  let startedAt = 0;
  // Read beside the spawn (cached per binary), recorded with the start when ready by then.
  let version: Promise<string | null> = Promise.resolve(null);
  try {
    const adapter = adapterFor(run.agent, agent);
    // The profile (instructions, working memory) is applied now, not at enqueue: see profile.ts.
    const profiled = applyProfile(app, run.agent, agent, run.prompt);
    const inv = adapter.buildInvocation({
      name: run.agent,
      agent,
      prompt: profiled.prompt,
      resumeSessionId: run.resume_session_id,
      token: readToken(run.agent, agent, app.paths.home),
      isRoot: process.getuid?.() === 0,
      env: process.env,
      maxCostUsd: run.max_cost_usd,
      cwd,
      boardHome: app.paths.home,
      boardWritesAllowed: agent.allow_board_writes,
    });
    const env = agentEnv({
      app,
      run,
      workerId: ctx.worker.id,
      apiUrl: ctx.apiUrl,
      runToken: runToken.token,
      memoryFile: profiled.memoryFile,
      layers: [agent.env, inv.env],
    });
    // The agent's `agentboard` is this build of it (cli-shim.ts).
    const cli = ensureCliShim(app.paths.home);
    if (cli)
      Object.assign(env, { AGENTBOARD_CLI: cli, PATH: `${path.dirname(cli)}:${env.PATH ?? ''}` });
    const command = inv.argv[0] ?? agentCommand(agent);
    const resolved = resolveCommand(command, env.PATH ?? '', cwd);
    if (!resolved) {
      await fail({ kind: 'not_installed', command, agent: run.agent });
      return;
    }
    if (agent.kind !== 'command') version = versionOfFile(resolved, adapter.versionArgs, env);
    // The spawner creates the run directory, writes prompt.md and starts the shim.
    const promptFile = path.join(dir, 'prompt.md');
    // Stamped before the request: the agent starts during it, never before.
    startedAt = app.clock.now();
    let argv = [resolved, ...inv.argv.slice(1)];
    if (ws.setup) {
      const wrapped = withSetup(argv, ws.setup);
      argv = wrapped.argv;
      Object.assign(env, wrapped.env);
    }
    if (ctx.stopping) {
      // Shutting down between claim and spawn: hand the run back, uncharged.
      await releaseClaim(app, run, token, `worker ${ctx.worker.id} stopped before starting it`);
      return;
    }
    spawned = await ctx.spawner.spawn(
      {
        runDir: dir,
        argv,
        env,
        cwd,
        ...(inv.stdin === 'prompt' ? { stdinFile: promptFile } : {}),
      },
      profiled.prompt,
    );
  } catch (e) {
    await fail({ kind: 'spawn_error', message: (e as Error).message });
    return;
  }

  // Monitors count from when the process exists: a slow spawn is not idle time.
  const now = app.clock.now();
  ctx.observer.onDispatched(now - Math.max(run.created_at, run.run_at), run.agent);
  const live = new LiveRun({
    id: run.id,
    taskId: run.task_id,
    agent: run.agent,
    runDir: dir,
    pid: spawned.pid,
    pgid: spawned.pgid,
    startTime: spawned.startTime,
    token,
    startedAt: now,
    timeoutMs: agent.timeout ?? app.config.defaults.timeout,
    idleTimeoutMs: agent.idle_timeout ?? app.config.defaults.idle_timeout,
    cwd,
  });
  ctx.live.set(run.id, live);
  let versionKnown = false;
  const versionRead = version
    .then((v) => {
      live.cliVersion = v;
      versionKnown = true;
    })
    .catch(() => {});
  live.versionRead = versionRead;
  attachTranscript(ctx, live, run);
  attachShipper(ctx, live);
  // Recorded before the exit is watched: a fast agent's exit, found at once,
  // must be finalized after "running", or the start would look taken away.
  const recorded = app.store
    .txGrouped(async (tx) => {
      const ok = await updateRunFenced(tx, run.id, token, {
        state: stepRun(run.state, { type: 'start' }),
        pid: spawned.pid,
        pgid: spawned.pgid,
        proc_start_time: spawned.startTime,
        started_at: startedAt,
        last_output_at: now,
        ...(versionKnown ? { cli_version: live.cliVersion } : {}),
      });
      if (ok) {
        await appendEvent(tx, 'run.started', {
          taskId: run.task_id,
          runId: run.id,
          data: { agent: run.agent, pid: spawned.pid, attempt: run.attempt },
        });
        await postRunStart(tx, run, spawned.pid);
      }
      return ok;
    })
    .then(async (ok) => {
      if (!ok) {
        // Cancelled or taken over between claim and spawn: this worker may not run it.
        ctx.log.warn(`run ${run.id} was taken away before it started; stopping its agent`);
        await live.terminate(0);
        return;
      }
      if (!versionKnown) {
        // A first launch of this binary: its version arrives after the start was recorded.
        await versionRead;
        await app.store.tx((tx) =>
          updateRunFenced(tx, run.id, token, { cli_version: live.cliVersion }),
        );
      }
    })
    .catch((e) =>
      ctx.log.warn(`could not record the start of run ${run.id}: ${(e as Error).message}`),
    );
  ctx.settling.add(recorded);
  void recorded.finally(() => ctx.settling.delete(recorded));
  live.watchExit(
    () => {
      // The exit can arrive before "running" is recorded; finalize after it.
      recorded.then(() => finalizeLiveRun(ctx, live));
    },
    { watch: false },
  );
  ctx.spawner.onExit(
    spawned.pid,
    (code, signal) => live.supervisorExited(code, signal),
    () => live.watchExitFile(),
  );
}
