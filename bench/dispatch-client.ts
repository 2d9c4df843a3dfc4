/**
 * The client side of the dispatch benchmark (dispatch.ts), in a fresh small
 * process. It alternates two kinds of sample, so both see the same machine:
 * - agentboard: POST /api/v1/tasks/T-n/runs, then wait for the agent's first
 *   instruction (it writes its task id into a FIFO this process reads);
 * - bare: the same two processes (the /bin/sh shim and the same agent)
 *   started the same way (spawnSupervised, from a small Node process, into a
 *   run directory whose files exist already, as the helpers' spares do).
 *
 *   node dist/bench/dispatch-client.js '<json: ClientArgs>'
 *
 * Writes its stamps to `<trace>.<pid>` (see dispatch-trace.ts) and exits 0.
 */
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnSupervised } from '../src/runner/supervisor.js';
import { nowUs, Trace } from './dispatch-trace.js';

export interface ClientArgs {
  url: string;
  /** The board's API token: every request carries it, as every real client's does. */
  token: string;
  fifo: string;
  trace: string;
  /** Task numbers to queue runs of, one per agentboard sample (warm-up first). */
  tasks: number[];
  /** Untimed samples of each kind before the measured ones. */
  warmup: number;
  /** The agent's argv (the same as the server's). */
  agent: string[];
  /** Where the bare samples' run directories go (the board's disk). */
  bareDir: string;
  /** Pause after each sample, so each one starts on a settled machine. */
  gapMs: number;
}

const args = JSON.parse(process.argv[2] ?? '{}') as ClientArgs;
const trace = new Trace();
trace.watchGc('client');

/** Resolves with the arrival time of each line written into the FIFO. */
function fifoReader(file: string) {
  const fd = fs.openSync(file, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  // Our own writer keeps the pipe from reporting EOF between agents.
  const keep = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK);
  const sock = new net.Socket({ fd, readable: true, writable: false });
  const waiting = new Map<string, (t: number) => void>();
  const early = new Map<string, number>();
  let buf = '';
  sock.on('data', (d: Buffer) => {
    const t = nowUs();
    buf += d.toString();
    for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
      const id = buf.slice(0, nl);
      buf = buf.slice(nl + 1);
      const cb = waiting.get(id);
      waiting.delete(id);
      if (cb) cb(t);
      else early.set(id, t);
    }
  });
  return {
    arrival(id: string): Promise<number> {
      const t = early.get(id);
      early.delete(id);
      if (t !== undefined) return Promise.resolve(t);
      return new Promise((resolve) => waiting.set(id, resolve));
    },
    close() {
      sock.destroy();
      fs.closeSync(keep);
    },
  };
}

const fifo = fifoReader(args.fifo);
const agentHttp = new http.Agent({ keepAlive: true, maxSockets: 1 });
const base = new URL(args.url);

function post(pathname: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: base.hostname,
        port: base.port,
        path: pathname,
        method: 'POST',
        agent: agentHttp,
        headers: {
          'content-type': 'application/json',
          'content-length': 2,
          authorization: `Bearer ${args.token}`,
        },
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.once('error', reject);
    req.end('{}');
  });
}

async function agentboardSample(task: number, timed: boolean): Promise<void> {
  const key = `task:${task}`;
  const arrived = fifo.arrival(`T-${task}`);
  const t0 = nowUs();
  const status = await post(`/api/v1/tasks/T-${task}/runs`);
  const answered = nowUs();
  if (status !== 202) throw new Error(`POST /api/v1/tasks/T-${task}/runs answered ${status}`);
  const t = await arrived;
  if (!timed) return;
  trace.hop(key, 'posted', t0);
  trace.hop(key, 'answered', answered);
  trace.hop(key, 'agent runs', t);
}

const env = { ...(process.env as Record<string, string>) };
async function bareSample(i: number, timed: boolean): Promise<void> {
  const id = `B-${i}`;
  const runDir = path.join(args.bareDir, id);
  fs.mkdirSync(runDir, { recursive: true, mode: 0o700 });
  for (const f of ['stdout.log', 'stderr.log', 'shim.pid', 'exit.json'])
    fs.closeSync(fs.openSync(path.join(runDir, f), 'a', 0o600));
  const stdinFile = path.join(runDir, 'prompt.md');
  fs.writeFileSync(stdinFile, id, { mode: 0o600 });
  const arrived = fifo.arrival(id);
  const t0 = nowUs();
  const s = spawnSupervised({
    runDir,
    argv: args.agent,
    env: { ...env, AGENTBOARD_TASK_ID: id },
    cwd: args.bareDir,
    stdinFile,
  });
  const forked = nowUs();
  const t = await arrived;
  await new Promise((r) => s.child.once('exit', r));
  if (!timed) return;
  trace.hop(`bare:${i}`, 'spawn', t0);
  trace.hop(`bare:${i}`, 'forked', forked);
  trace.hop(`bare:${i}`, 'agent runs', t);
}

fs.mkdirSync(args.bareDir, { recursive: true });
for (let i = 0; i < args.tasks.length; i++) {
  const timed = i >= args.warmup;
  await agentboardSample(args.tasks[i] as number, timed);
  await sleep(args.gapMs);
  await bareSample(i, timed);
  await sleep(args.gapMs);
}
fifo.close();
agentHttp.destroy();
trace.dump(`${args.trace}.${process.pid}`);
