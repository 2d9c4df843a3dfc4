/**
 * The server side of the dispatch benchmark (dispatch.ts): what `agentboard
 * serve` runs (the HTTP API and the engine on one SQLite board), in a fresh
 * process, with every hop of a run's way to its agent stamped (see
 * dispatch-trace.ts). The stamps come from wrappers installed here around the
 * engine's parts, so the code measured is the code shipped.
 *
 *   node dist/bench/dispatch-server.js '<json: ServerArgs>'
 *
 * Prints `ready <url>` once it listens; on SIGTERM it stops, writes its
 * stamps to `<trace>.<pid>` and exits.
 */
import diagnostics from 'node:diagnostics_channel';
import type { IncomingMessage } from 'node:http';
import { pathToFileURL } from 'node:url';
import { openApp } from '../src/app/context.js';
import { addTask } from '../src/app/tasks.js';
import { Dispatcher } from '../src/engine/dispatcher.js';
import { startEngine } from '../src/engine/engine.js';
import { Spawner } from '../src/runner/spawner.js';
import { listenHttp } from '../src/server/listen.js';
import type { EventRecord } from '../src/store/events.js';
import { GroupCommit } from '../src/store/group-commit.js';
import type { RunRow } from '../src/store/runs.js';
import { Store } from '../src/store/store.js';
import { nowUs, Trace } from './dispatch-trace.js';
import { benchConfig } from './harness.js';

export interface ServerArgs {
  home: string;
  /** Stamps go to `<trace>.<pid>`, one file per process. */
  trace: string;
  /** Tasks to create before listening (one per sample: a task has one active run at a time). */
  tasks: number;
  /** The agent's argv. */
  agent: string[];
  /** Experiments (not the shipped defaults): extra SQLite pragmas run after opening. */
  pragmas?: string[];
}

const args = JSON.parse(process.argv[2] ?? '{}') as ServerArgs;
const trace = new Trace();
trace.watchGc('server');

// The spawner helpers load the stamping preload (forked with our environment).
process.env.AGENTBOARD_BENCH_TRACE = args.trace;
const preload = pathToFileURL(new URL('./dispatch-helper-trace.js', import.meta.url).pathname);
if (!process.env.DISPATCH_NO_HELPER_TRACE)
  process.env.NODE_OPTIONS = `${process.env.NODE_OPTIONS ?? ''} --import=${preload.href}`.trim();

type AnyFn = (this: unknown, ...a: unknown[]) => unknown;
/** Replaces `proto[name]` by `wrap(original)`: the engine's classes, stamped in place. */
function around(proto: object, name: string, wrap: (fn: AnyFn) => AnyFn): void {
  const p = proto as Record<string, AnyFn>;
  p[name] = wrap(p[name] as AnyFn);
}

/** Times a method returning a promise, to its settlement, as a span. */
function spanOf(what: string) {
  return (fn: AnyFn): AnyFn =>
    function (this: unknown, ...a: unknown[]) {
      const t = nowUs();
      const r = fn.apply(this, a) as Promise<unknown>;
      void Promise.resolve(r).finally(() => trace.span(what, t, nowUs() - t));
      return r;
    };
}

around(
  Dispatcher.prototype,
  'wake',
  (fn) =>
    function (this: unknown) {
      trace.span('dispatcher wake', nowUs(), 0);
      return fn.call(this);
    },
);
around(
  Dispatcher.prototype,
  'claimSome',
  (fn) =>
    function (this: unknown) {
      const t = nowUs();
      // Before and after the dispatcher's change: a list, or the list with what was asked.
      const r = fn.call(this) as Promise<RunRow[] | { runs: RunRow[] }>;
      void r.then((got) => {
        const runs = Array.isArray(got) ? got : got.runs;
        const end = nowUs();
        trace.span(runs.length > 0 ? 'claim tx' : 'claim tx (empty)', t, end - t);
        for (const run of runs) {
          trace.hop(run.id, 'claim begins', t);
          trace.hop(run.id, 'claimed', end);
        }
      });
      return r;
    },
);
around(
  Spawner.prototype,
  'spawn',
  (fn) =>
    function (this: unknown, ...a: unknown[]) {
      const run = (a[0] as { env: Record<string, string> }).env.AGENTBOARD_RUN_ID ?? '?';
      trace.hop(run, 'spawn requested');
      const r = fn.apply(this, a) as Promise<unknown>;
      void r.then(
        () => trace.hop(run, 'spawn answered'),
        () => {},
      );
      return r;
    },
);
around(Store.prototype, 'runInTransaction', spanOf('tx'));
around(
  GroupCommit.prototype,
  'flush',
  (fn) =>
    function (this: unknown) {
      const n = (this as { jobs: unknown[] }).jobs.length;
      return spanOf(`group commit (${n})`)(fn).call(this);
    },
);

// Timers (engine passes, the data_version poll): when each fired and how long its synchronous part took.
const realSetInterval = globalThis.setInterval;
globalThis.setInterval = ((cb: (...a: unknown[]) => void, ms?: number, ...rest: unknown[]) =>
  realSetInterval(
    (...a: unknown[]) => {
      const t = nowUs();
      cb(...a);
      trace.span(`timer ${ms ?? 0} ms`, t, nowUs() - t);
    },
    ms,
    ...rest,
  )) as typeof setInterval;

// The API: when a request to queue a run arrives, and when its answer is sent.
const RUN_URL = /^\/api\/v1\/tasks\/T-(\d+)\/runs$/;
const requestTask = (req: IncomingMessage) => RUN_URL.exec(req.url ?? '')?.[1];
diagnostics.subscribe('http.server.request.start', (m) => {
  const task = requestTask((m as { request: IncomingMessage }).request);
  if (task) trace.hop(`task:${task}`, 'request arrives');
});
diagnostics.subscribe('http.server.response.finish', (m) => {
  const task = requestTask((m as { request: IncomingMessage }).request);
  if (task) trace.hop(`task:${task}`, 'response sent');
});

const app = await openApp({
  config: benchConfig({
    agents: {
      bench: {
        kind: 'command',
        command: args.agent[0],
        args: args.agent.slice(1),
        max_concurrency: 8,
      },
    },
    defaults: { max_attempts: 1 },
  }),
  cwd: args.home,
  env: { AGENTBOARD_HOME: args.home },
});
for (const p of args.pragmas ?? []) app.store.sqlite?.pragma(p);
for (let i = 0; i < args.tasks; i++) await addTask(app, { title: `probe ${i}`, agent: 'bench' });

app.store.changes.on('events', (events: EventRecord[]) => {
  const t = nowUs();
  for (const e of events) {
    if (!e.runId) continue;
    if (e.type === 'run.queued') {
      trace.hop(e.runId, 'committed', t);
      trace.hop(e.runId, `task:${e.taskId}`, t);
    } else if (e.type === 'run.started') trace.hop(e.runId, 'running recorded', t);
    else if (e.type === 'run.finished') trace.hop(e.runId, 'finished recorded', t);
  }
});

const engineRef: { current: Awaited<ReturnType<typeof startEngine>> | null } = { current: null };
const http = await listenHttp(app, { host: '127.0.0.1', port: 0, engine: engineRef });
const quiet = { info: () => {}, warn: (m: string) => process.stderr.write(`[server] ${m}\n`) };
engineRef.current = await startEngine(app, { log: quiet });
process.stdout.write(`ready ${http.url}\n`);

process.once('SIGTERM', () => {
  void (async () => {
    await http.server.close();
    await engineRef.current?.stop();
    await app.store.close();
    trace.dump(`${args.trace}.${process.pid}`);
    process.exit(0);
  })();
});
