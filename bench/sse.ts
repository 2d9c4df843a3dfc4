/**
 * Live log fan-out (issue 5, SSE): 50 clients follow one run's stdout over
 * `GET /api/v1/runs/:id/logs/stream` on a real `agentboard serve` process
 * while a scripted command agent writes 20 MB of fixed-size lines, each
 * stamped with its write time, at a steady 1 MB/s. Measured:
 * - delivery latency per line and client (receive time minus write stamp);
 * - the server's CPU seconds per MB of log (from /proc, so the clients in
 *   this process do not count), next to the same run with no client at all
 *   (the engine's own work: supervising, parsing lines into transcript
 *   events), so the streaming share shows;
 * - every client's bytes hashed against the file.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { readApiToken } from '../src/app/api-token.js';
import {
  type BenchContext,
  type BenchModule,
  latencyRows,
  type Row,
  summarize,
} from './harness.js';

const CLI = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../src/cli/main.js');
const LINE = 1000;
const STAMP = 17; // "1763764965123.456"
const RATE = 1024 * 1024;
const CLK_TCK = 100;

/** The agent: waits for the go file, then writes `total` bytes of stamped lines at `rate` bytes/s. */
const WRITER = `
import fs from 'node:fs';
const [go, total, rate, line] = process.argv.slice(2).map((x, i) => (i === 0 ? x : Number(x)));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
while (!fs.existsSync(go)) await sleep(2);
const lines = total / line;
const pad = 'x'.repeat(line);
const t0 = performance.now();
let n = 0;
while (n < lines) {
  const due = Math.min(lines, Math.floor(((performance.now() - t0) * rate) / 1000 / line) + 1);
  if (due > n) {
    const ts = (performance.timeOrigin + performance.now()).toFixed(3);
    let s = '';
    for (; n < due; n++) {
      const head = ts + ' ' + String(n).padStart(9, '0') + ' ';
      s += head + pad.slice(0, line - head.length - 1) + '\\n';
    }
    fs.writeSync(1, s);
  }
  await sleep(1);
}
`;

function cpuSeconds(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

interface Serve {
  child: ChildProcess;
  url: string;
}

/** The board's API token, read from the home as the CLI does (set once `serve` made it). */
let token = '';
const auth = () => ({ authorization: `Bearer ${token}` });

async function startServe(home: string): Promise<Serve> {
  const child = spawn(process.execPath, [CLI, 'serve', '--port', '0'], {
    env: { ...process.env, AGENTBOARD_HOME: home, AGENTBOARD_DATABASE_URL: '' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /^board: (http:\/\/\S+?)\/?$/m.exec(out);
      if (m?.[1]) resolve(m[1]);
    });
    child.once('exit', (code) => reject(new Error(`agentboard serve exited (${code}): ${out}`)));
  });
  token = readApiToken(home) ?? '';
  return { child, url };
}

async function api<T>(method: string, url: string, body?: unknown): Promise<T> {
  const r = await fetch(url, {
    method,
    headers: body ? { ...auth(), 'content-type': 'application/json' } : auth(),
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!r.ok) throw new Error(`${method} ${url}: ${r.status} ${await r.text()}`);
  return (await r.json()) as T;
}

/**
 * One SSE client: hashes the text, times each complete line, resolves on
 * `exit`. Kept cheap so 50 of them in this process keep up: the text is
 * hashed in its JSON-escaped form (escaping is per character, so pieces
 * concatenate to the escaped file), never JSON.parsed.
 */
function follow(
  url: string,
  agent: http.Agent,
  latencies: number[],
): { connected: Promise<void>; done: Promise<string> } {
  let connected!: () => void;
  const ready = new Promise<void>((r) => {
    connected = r;
  });
  // A line as escaped JSON: its newline is two characters.
  const escapedLine = LINE + 1;
  const done = new Promise<string>((resolve, reject) => {
    const hash = crypto.createHash('sha256');
    let buf = '';
    let carry = '';
    http
      .get(url, { agent, headers: { ...auth(), accept: 'text/event-stream' } }, (res) => {
        if (res.statusCode !== 200) reject(new Error(`stream: HTTP ${res.statusCode}`));
        connected();
        res.setEncoding('latin1');
        res.on('data', (chunk: string) => {
          const now = performance.timeOrigin + performance.now();
          buf = buf.length === 0 ? chunk : buf + chunk;
          let start = 0;
          for (let cut = buf.indexOf('\n\n'); cut !== -1; cut = buf.indexOf('\n\n', start)) {
            const block = buf.slice(start, cut);
            start = cut + 2;
            if (block.startsWith('event: exit') || block.includes('\nevent: exit')) {
              res.destroy();
              return resolve(hash.digest('hex'));
            }
            const at = block.indexOf('"text":"');
            if (at === -1) continue;
            const text = block.slice(at + 8, block.length - 2);
            hash.update(text, 'latin1');
            const s = carry + text;
            let i = 0;
            for (; i + escapedLine <= s.length; i += escapedLine) {
              latencies.push(now - Number(s.slice(i, i + STAMP)));
            }
            carry = s.slice(i);
          }
          buf = buf.slice(start);
        });
        res.once('error', reject);
      })
      .once('error', reject);
  });
  return { connected: ready, done };
}

interface Scenario {
  cpuPerMb: number;
  /** This process: the clients' own parsing, for reading the latency figures. */
  clientCpuPerMb: number;
  latencies: number[];
  identical: number;
  seconds: number;
}

async function scenario(ctx: BenchContext, clients: number, total: number): Promise<Scenario> {
  const root = ctx.tmpDir('sse');
  const home = path.join(root, 'home');
  fs.mkdirSync(home);
  const writer = path.join(root, 'writer.mjs');
  const go = path.join(root, 'go');
  fs.writeFileSync(writer, WRITER);
  fs.writeFileSync(
    path.join(home, 'config.yaml'),
    JSON.stringify({
      agents: {
        writer: {
          kind: 'command',
          command: process.execPath,
          args: [writer, go, String(total), String(RATE), String(LINE)],
        },
      },
      defaults: { max_attempts: 1 },
      board: { autostart: true },
    }),
  );
  const serve = await startServe(home);
  ctx.onCleanup(() => {
    serve.child.kill('SIGKILL');
  });
  const task = await api<{ id: string }>('POST', `${serve.url}/api/v1/tasks`, {
    title: `write ${total} bytes`,
    agent: 'writer',
  });
  let runId = '';
  for (;;) {
    const runs = await api<{ items: { id: string; state: string }[] }>(
      'GET',
      `${serve.url}/api/v1/runs?task=${task.id}`,
    );
    const run = runs.items[0];
    if (run?.state === 'running') {
      runId = run.id;
      break;
    }
    await sleep(20);
  }
  const agent = new http.Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY });
  const latencies: number[] = [];
  const streams = Array.from({ length: clients }, () =>
    follow(`${serve.url}/api/v1/runs/${runId}/logs/stream`, agent, latencies),
  );
  await Promise.all(streams.map((s) => s.connected));
  const cpu0 = cpuSeconds(serve.child.pid as number);
  const mine0 = process.cpuUsage();
  const t0 = performance.now();
  fs.writeFileSync(go, '');
  let hashes: string[] = [];
  if (clients > 0) {
    const limitMs = (total / RATE) * 1000 * 10 + 60_000;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no exit event after ${limitMs} ms`)), limitMs);
    });
    try {
      hashes = await Promise.race([Promise.all(streams.map((s) => s.done)), timeout]);
    } finally {
      clearTimeout(timer);
    }
  } else {
    for (;;) {
      const run = await api<{ state: string }>('GET', `${serve.url}/api/v1/runs/${runId}`);
      if (!['queued', 'claimed', 'running'].includes(run.state)) break;
      await sleep(20);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  const cpu = cpuSeconds(serve.child.pid as number) - cpu0;
  const mine = process.cpuUsage(mine0);
  serve.child.kill('SIGTERM');
  const file = fs.readFileSync(path.join(home, 'runs', runId, 'stdout.log'));
  if (file.length !== total) throw new Error(`the agent wrote ${file.length} of ${total} bytes`);
  const escaped = JSON.stringify(file.toString('latin1')).slice(1, -1);
  const want = crypto.createHash('sha256').update(escaped, 'latin1').digest('hex');
  return {
    cpuPerMb: cpu / (total / 1024 / 1024),
    clientCpuPerMb: (mine.user + mine.system) / 1e6 / (total / 1024 / 1024),
    latencies,
    identical: hashes.filter((h) => h === want).length,
    seconds,
  };
}

const sse: BenchModule = {
  name: 'sse',
  description: 'live log fan-out: 50 SSE clients on one run writing 20 MB (latency, server CPU)',
  async run(ctx) {
    const clients = ctx.quick ? 10 : 50;
    const total =
      (ctx.quick ? 2 : 20) * 1024 * 1024 - (((ctx.quick ? 2 : 20) * 1024 * 1024) % LINE);
    const mb = `${Math.round(total / 1024 / 1024)} MB`;
    ctx.log(`sse: baseline, ${mb} with no client`);
    const alone = await scenario(ctx, 0, total);
    ctx.log(`sse: ${clients} clients`);
    const fan = await scenario(ctx, clients, total);
    const base = { benchmark: 'sse.log', store: 'sqlite' as const };
    const rows: Row[] = [
      ...latencyRows(base, `${clients} clients: write→receive per line`, summarize(fan.latencies), {
        p99: { max: 50 },
      }),
      {
        ...base,
        metric: `clients whose bytes equal the file (sha256)`,
        value: fan.identical,
        unit: 'clients',
        n: clients,
        target: { min: clients },
      },
      {
        ...base,
        metric: `server CPU per MB, ${clients} clients`,
        value: fan.cpuPerMb,
        unit: 's/MB',
        n: 1,
        note: `${fan.seconds.toFixed(1)} s wall for ${mb}`,
      },
      {
        ...base,
        metric: `clients' CPU per MB (this process, all ${clients})`,
        value: fan.clientCpuPerMb,
        unit: 's/MB',
        n: 1,
      },
      {
        ...base,
        metric: 'server CPU per MB, no client (engine only)',
        value: alone.cpuPerMb,
        unit: 's/MB',
        n: 1,
      },
      {
        ...base,
        metric: `of which streaming to ${clients} clients`,
        value: fan.cpuPerMb - alone.cpuPerMb,
        unit: 's/MB',
        n: 1,
      },
    ];
    return rows;
  },
};

export default sse;
