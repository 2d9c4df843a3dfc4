/**
 * Loaded (`--import`, through NODE_OPTIONS) into the spawner helpers of the
 * dispatch benchmark's server: stamps when a spawn request arrives, the
 * fork+exec of the shim, the reply, and the spare run directories being
 * made, without a line changed in the helper itself. Any other process
 * loading it is left alone.
 */
import { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { RunDirPool } from '../src/runner/run-dir-pool.js';
import { nowUs, Trace } from './dispatch-trace.js';

const file = process.env.AGENTBOARD_BENCH_TRACE;
if (file && process.argv[1]?.endsWith('spawner-process.js')) install(file);

function install(out: string): void {
  const trace = new Trace();
  trace.watchGc('helper');
  // A helper forked on the way of a spawn request makes that request wait for Node to start.
  const up = nowUs();
  trace.span(
    `helper ${process.pid} starting up`,
    up - performance.now() * 1000,
    performance.now() * 1000,
  );
  const runOfPid = new Map<number, string>();
  // The helper's own 'message' handler, stamped as it is called. (A listener
  // added here, during --import, holds every message back until the channel closes.)
  const on = process.on.bind(process);
  process.on = ((event: string, fn: (...a: unknown[]) => void) => {
    if (event !== 'message') return on(event, fn);
    return on(event, (m: { opts?: { runDir?: string } }, ...rest: unknown[]) => {
      if (m.opts?.runDir) trace.hop(path.basename(m.opts.runDir), 'helper received');
      fn(m, ...rest);
    });
  }) as typeof process.on;
  // ChildProcess#spawn is where every child_process.spawn forks and execs (untyped internals).
  type SpawnFn = (this: ChildProcess, o: { envPairs?: string[] }) => unknown;
  const cp = ChildProcess.prototype as unknown as { spawn: SpawnFn };
  const spawn = cp.spawn;
  cp.spawn = function (options) {
    const dir = options.envPairs?.find((p) => p.startsWith('AGENTBOARD_RUN_DIR='));
    const run = dir ? path.basename(dir.slice('AGENTBOARD_RUN_DIR='.length)) : '?';
    trace.hop(run, 'helper fork');
    const r = spawn.call(this, options);
    trace.hop(run, 'helper forked');
    if (this.pid !== undefined) runOfPid.set(this.pid, run);
    return r;
  };
  const send = process.send?.bind(process);
  if (send) {
    process.send = ((m: { id?: number; pid?: number }, ...rest: unknown[]) => {
      if (m.id !== undefined && m.pid !== undefined)
        trace.hop(runOfPid.get(m.pid) ?? '?', 'helper replies');
      return (send as (...a: unknown[]) => boolean)(m, ...rest);
    }) as typeof process.send;
  }
  const proto = RunDirPool.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  for (const name of ['step', 'take'] as const) {
    const fn = proto[name] as (...a: unknown[]) => unknown;
    proto[name] = function (this: unknown, ...args: unknown[]) {
      const t = nowUs();
      const r = fn.apply(this, args);
      trace.span(`helper spare ${name}`, t, nowUs() - t);
      return r;
    };
  }
  process.on('exit', () => trace.dump(`${out}.${process.pid}`));
}
