/**
 * The test tiers (`npm run test:unit | test:integration | test:slow`), and
 * `--list` to see which file runs where. A file's tier follows from what it
 * uses, read from its imports (and its helpers' imports), so a new test needs
 * no registration and cannot land in the quick tier by mistake:
 *
 * - unit: domain, config, contract, store on SQLite, app, server through
 *   inject(), agents' parsers, web units: no process, no PostgreSQL, no browser;
 * - integration: real processes (agents, `serve`, the CLI), PostgreSQL, Chromium.
 * - slow: the crash and worker tests (one at a time) and the real agent CLIs.
 *
 * Run from dist/ (the build); not a test file.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

type Tier = 'unit' | 'integration' | 'slow';

const HERE = path.dirname(fileURLToPath(import.meta.url));
/** Folders whose every test is slow, with the concurrency they run at. */
const SLOW: Record<string, number> = { 'engine-crash': 1, workers: 1, 'model-servers': 2, e2e: 2 };
/** Folders of the quick tier, less any file that uses the world (below). */
const UNIT = new Set([
  'domain',
  'config',
  'contract',
  'store',
  'app',
  'server',
  'agents',
  'web-units',
]);
/** Using a process, PostgreSQL, a browser or an engine that starts agents. */
const USES_THE_WORLD =
  /\b(?:startPostgres|runCli|cliJson|startBoard|openBoard|probeAgent|versionOfFile|spawn|spawnSync|execFile|execFileSync|fork|launchBrowser|chromium)\(|new ServeProcess\b|from ['"](?:node:child_process|playwright-core)['"]/;

/** Support modules that exist to start processes: `serve`, the CLI, PostgreSQL. */
const PROCESS_SUPPORT = ['server.js', 'postgres.js'];

function testFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...testFiles(full));
    else if (entry.name.endsWith('.test.js')) out.push(full);
  }
  return out.sort();
}

/**
 * Whether `file`, or a helper of its own folder tree it imports, does any of
 * that. test/support/ is a library (its board.js can open PostgreSQL too): a
 * test that uses those parts of it says so in its own text.
 */
function usesTheWorld(file: string, seen = new Set<string>()): boolean {
  if (seen.has(file)) return false;
  seen.add(file);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return false;
  }
  if (USES_THE_WORLD.test(text)) return true;
  for (const m of text.matchAll(/from ['"](\.{1,2}\/[^'"]+\.js)['"]/g)) {
    const dep = path.resolve(path.dirname(file), m[1] as string);
    if (PROCESS_SUPPORT.some((p) => dep === path.join(HERE, 'support', p))) return true;
    const inTests = dep.startsWith(HERE) && !dep.startsWith(path.join(HERE, 'support'));
    if (inTests && usesTheWorld(dep, seen)) return true;
  }
  return false;
}

export function tierOf(file: string): Tier {
  const top = path.relative(HERE, file).split(path.sep)[0] ?? '';
  if (top in SLOW) return 'slow';
  return UNIT.has(top) && !usesTheWorld(file) ? 'unit' : 'integration';
}

function run(files: string[], concurrency: number): number {
  if (files.length === 0) return 0;
  const r = spawnSync(process.execPath, ['--test', `--test-concurrency=${concurrency}`, ...files], {
    stdio: 'inherit',
  });
  return r.status ?? 1;
}

function main(args: string[]): number {
  const all = testFiles(HERE);
  if (args[0] === '--list') {
    for (const f of all) console.log(`${tierOf(f).padEnd(12)} ${path.relative(HERE, f)}`);
    return 0;
  }
  const tier = args[0] as Tier;
  if (!['unit', 'integration', 'slow'].includes(tier)) {
    console.error('usage: node dist/test/tiers.js unit|integration|slow|--list');
    return 2;
  }
  const mine = all.filter((f) => tierOf(f) === tier);
  if (tier !== 'slow') return run(mine, 4);
  // The crash tests kill and time processes: one at a time, each folder on its own.
  let status = 0;
  for (const [dir, concurrency] of Object.entries(SLOW)) {
    const files = mine.filter((f) => path.relative(HERE, f).startsWith(`${dir}${path.sep}`));
    status = run(files, concurrency) || status;
  }
  return status;
}

process.exitCode = main(process.argv.slice(2));
