import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../support/tmp.js';

const BIN = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../../bin/agentboard.js',
);
const CLAUDE = path.resolve(path.dirname(BIN), '../node_modules/.bin/claude');

function validate(config: string, args: string[] = [], env: Record<string, string> = {}) {
  const home = path.join(tempDir('agentboard-validate-'), '.agentboard');
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(path.join(home, 'config.yaml'), config);
  const clean = { ...process.env };
  for (const k of ['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY']) delete clean[k];
  const r = spawnSync(process.execPath, [BIN, 'validate', ...args], {
    env: {
      ...clean,
      AGENTBOARD_HOME: home,
      HOME: tempDir('agentboard-validate-home-'),
      NO_COLOR: '1',
      ...env,
    },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('validate: a missing CLI in use is reported with what to do, and exits 1', () => {
  const r = validate(
    'agents:\n  ghost:\n    kind: codex\n    command: no-such-codex\n    token: sk-x\ndefaults:\n  agent: ghost\n',
  );
  assert.equal(r.code, 1, r.stdout + r.stderr);
  assert.match(r.stdout, /ghost\s+codex\s+no-such-codex \(not found\)/);
  assert.match(
    r.stdout,
    /`no-such-codex` is not installed or not on PATH: install it or set agents\.ghost\.command/,
  );
  assert.match(r.stdout, /CANNOT RUN/);
});

test('validate: a real CLI without a key is reported (exit 1); with a key in the environment it is ok (exit 0)', () => {
  const config = `agents:\n  claude:\n    kind: claude\n    command: ${CLAUDE}\n`;
  const missing = validate(config, ['--agent', 'claude']);
  assert.equal(missing.code, 1, missing.stdout + missing.stderr);
  assert.match(
    missing.stdout,
    /no credentials: set agents\.claude\.token or token_file, export ANTHROPIC_API_KEY, or log in with the CLI/,
  );
  const ok = validate(config, ['--agent', 'claude', '--json'], {
    ANTHROPIC_API_KEY: 'sk-test-secret',
  });
  assert.equal(ok.code, 0, ok.stdout + ok.stderr);
  const [report] = JSON.parse(ok.stdout) as {
    canRun: boolean;
    version: string;
    credentials: { source: string };
  }[];
  assert.equal(report?.canRun, true);
  assert.match(report?.version ?? '', /^\d+\.\d+\.\d+/);
  assert.equal(report?.credentials.source, 'env ANTHROPIC_API_KEY');
  assert.ok(!ok.stdout.includes('sk-test-secret'), 'the key was printed');
});

test('validate: an unused agent that cannot run does not fail the command', () => {
  const r = validate('agents:\n  spare:\n    kind: gemini\n    command: no-such-gemini\n');
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /cannot run \(unused\)/);
});

test('validate --agent with an unknown name is a usage error', () => {
  const r = validate('agents: {}\n', ['--agent', 'nobody']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /agent "nobody" is not configured/);
});
