/**
 * Streams survive a server crash: `agentboard serve` is SIGKILLed while a
 * client follows it, then restarted on the same home; the client reconnects
 * with Last-Event-ID as a browser would and misses nothing, repeats nothing.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { openApp } from '../../src/app/context.js';
import { addTask } from '../../src/app/tasks.js';
import { runDir } from '../../src/config/home.js';
import { lastEventId } from '../../src/store/events.js';
import {
  addAgentTask,
  createBoard,
  killRunProcesses,
  runsOfTask,
  waitFor,
} from '../engine-crash/helpers.js';
import { renderOutput } from '../fixtures/crash-agent-lib.js';
import { type ServeProcess, startServe } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { SseClient } from './sse-helpers.js';

/**
 * Follows `path` on whichever server is current, reconnecting with the last
 * id seen (a browser's EventSource does the same) until `finished` holds.
 */
class Follower {
  readonly sessions: SseClient[] = [];
  private stopped = false;
  readonly done: Promise<void>;

  constructor(
    private readonly server: () => ServeProcess,
    private readonly route: string,
    private readonly finished: (all: SseClient[]) => boolean,
  ) {
    this.done = this.loop();
  }

  get lastId(): string | undefined {
    for (let i = this.sessions.length - 1; i >= 0; i--) {
      const id = this.sessions[i]?.lastId;
      if (id !== undefined) return id;
    }
    return undefined;
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.sessions) s.close();
  }

  private async loop(): Promise<void> {
    while (!this.stopped && !this.finished(this.sessions)) {
      const s = this.server();
      const last = this.lastId;
      let c: SseClient;
      try {
        c = await SseClient.connect(`${s.url}${this.route}`, {
          ...s.authHeaders(),
          ...(last ? { 'last-event-id': last } : {}),
        });
      } catch {
        await sleep(50); // the server is down: retry
        continue;
      }
      if (c.status !== 200) {
        c.close();
        await sleep(50);
        continue;
      }
      this.sessions.push(c);
      await c.ended;
      if (!this.finished(this.sessions)) await sleep(50);
    }
  }
}

test('board feed: SIGKILL mid-stream, restart, resume with Last-Event-ID: ids are exactly 1..N', {
  timeout: 180_000,
}, async (t) => {
  const home = path.join(tempDir('agentboard-sse-restart-'), 'home');
  fs.mkdirSync(home);
  fs.writeFileSync(path.join(home, 'config.yaml'), JSON.stringify({ board: { autostart: false } }));
  let server = await startServe(home, { timeoutMs: 60_000 });
  // This process writes the board like the CLI does: another process as far as the server knows.
  const producer = await openApp({ env: { AGENTBOARD_HOME: home } });
  let produced = 0;
  let producing = true;
  const follower = new Follower(
    () => server,
    '/api/v1/events/stream?after=0',
    () => false,
  );
  const received = () => follower.sessions.flatMap((s) => s.messages.map((m) => Number(m.id)));
  try {
    // Adds tasks until told to stop: before, during and after the server's downtime.
    const adding = (async () => {
      while (producing) {
        await addTask(producer, { title: `task ${produced}` });
        produced++;
        await sleep(8);
      }
    })();
    await waitFor('the client to receive 40 events', () => received().length >= 40, 60_000);
    await server.kill('SIGKILL');
    const atKill = received().length;
    const producedAtKill = produced;
    await sleep(600); // down for a while: tasks keep being added
    const producedWhileDown = produced - producedAtKill;
    server = await startServe(home, { timeoutMs: 60_000 });
    const producedAtRestart = produced;
    await waitFor('more tasks after the restart', () => produced >= producedAtRestart + 50, 60_000);
    producing = false;
    await adding;
    const last = await lastEventId(producer.store.db);
    assert.equal(last, produced);
    await waitFor('the client to catch up', () => (received().at(-1) ?? 0) >= last, 30_000);
    await sleep(200); // a duplicate would arrive now
    assert.deepEqual(
      received(),
      Array.from({ length: last }, (_, i) => i + 1),
    );
    assert.ok(follower.sessions.length >= 2, 'the client never reconnected');
    assert.ok(atKill < last, 'the kill did not happen mid-stream');
    assert.ok(producedWhileDown > 0, 'nothing was produced while the server was down');
    t.diagnostic(`${atKill} of ${last} events received when the server was SIGKILLed`);
  } finally {
    follower.stop();
    server.forceKill();
    await producer.store.close();
  }
});

test('run log: SIGKILL mid-stream, restart (the run is re-adopted), resume: bytes equal the file', {
  timeout: 180_000,
}, async (t) => {
  const BYTES = 3_000_000;
  const board = createBoard({ defaults: { max_attempts: 1 } });
  const app = await board.open();
  let server = await startServe(board.home, { logFile: board.serveLog, timeoutMs: 60_000 });
  let follower: Follower | undefined;
  try {
    const taskId = await addAgentTask(app, 'steady output', {
      steps: [{ ms: 6000, exit: 7, bytes: BYTES }],
    });
    const run = await waitFor(
      'the run to start',
      async () => {
        const [r] = await runsOfTask(app, taskId);
        return r?.state === 'running' ? r : undefined;
      },
      60_000,
    );
    const exited = (all: SseClient[]) =>
      all.some((s) => s.messages.some((m) => m.event === 'exit'));
    follower = new Follower(() => server, `/api/v1/runs/${run.id}/logs/stream`, exited);
    const f = follower;
    const bytesSoFar = () => Number(f.lastId ?? 0);
    await waitFor('some output', () => bytesSoFar() > 0, 60_000);
    await sleep(300);
    await server.kill('SIGKILL');
    const atKill = bytesSoFar();
    await sleep(1000);
    server = await startServe(board.home, { logFile: board.serveLog, timeoutMs: 60_000 });
    await waitFor('the exit event', () => exited(f.sessions), 60_000);

    let at = 0;
    const parts: Buffer[] = [];
    for (const s of follower.sessions) {
      for (const m of s.messages) {
        if (m.event !== 'log') continue;
        const d = JSON.parse(m.data) as { offset: number; text: string };
        assert.equal(d.offset, at, 'a gap or a repeat across the reconnect');
        const b = Buffer.from(d.text);
        parts.push(b);
        at += b.length;
        assert.equal(Number(m.id), at);
      }
    }
    const got = Buffer.concat(parts);
    const onDisk = fs.readFileSync(path.join(runDir(app.paths, run.id), 'stdout.log'));
    assert.equal(onDisk.length, BYTES);
    assert.ok(onDisk.equals(renderOutput(run.id, BYTES, 0, BYTES)));
    assert.equal(got.length, BYTES);
    assert.ok(got.equals(onDisk), 'the streamed bytes differ from the file');
    const exit = follower.sessions.flatMap((s) => s.messages).find((m) => m.event === 'exit') as {
      data: string;
    };
    assert.deepEqual(
      { ...JSON.parse(exit.data), errorSummary: undefined },
      { state: 'failed', exitCode: 7, exitSignal: null, errorSummary: undefined },
    );
    assert.ok(atKill > 0 && atKill < BYTES, `${atKill} bytes at the kill`);
    assert.ok(follower.sessions.length >= 2);
    t.diagnostic(`${atKill} of ${BYTES} bytes received when the server was SIGKILLed`);
  } finally {
    follower?.stop();
    server.forceKill();
    killRunProcesses(board.home);
    await app.store.close();
  }
});
