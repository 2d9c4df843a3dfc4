/**
 * Records opencode's and Amp's real output into test/fixtures/recorded/<cli>/. Not a test file.
 * Their binaries are not dependencies of this repo: install them elsewhere and pass the paths,
 * then run after a build:
 *
 *   OPENCODE_BIN=/path/to/opencode AMP_BIN=/path/to/amp \
 *     node dist/test/support/model-servers/record-other.js [opencode] [amp]
 *
 * (`npm install --ignore-scripts opencode-ai @ampcode/cli` puts the real binaries at
 * node_modules/opencode-linux-x64/bin/opencode and node_modules/@ampcode/cli-linux-x64/amp.)
 *
 * opencode talks to the scripted Anthropic server through a custom provider in its config
 * (`npm: "@ai-sdk/anthropic"`, bundled in the binary, with `options.baseURL`). Amp has no model
 * base URL: `AMP_URL` points the whole CLI at the Amp service (user info, plugins, threads,
 * inference), so only its answer to a 401 from that service can be recorded.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startAnthropicServer } from './anthropic.js';
import { type ModelServer, sendJson, startServer } from './http.js';
import { FOLLOW_UP_PROMPT, PROMPT, SHELL_COMMAND, scrub, writeMeta } from './record.js';
import type { Scenario } from './scenario.js';

type OtherCli = 'opencode' | 'amp';

const OPENCODE_MODEL = 'claude-scripted';
const OPENCODE_SUCCESS: Scenario = [
  {
    text: 'I will create the file.',
    tool: { name: 'bash', input: { command: SHELL_COMMAND, description: 'Write out.txt' } },
  },
  { text: 'Created out.txt containing hello. DONE' },
  { text: 'I created out.txt with the shell tool. DONE' },
];

interface Setup {
  bin: string;
  argv: string[];
  env: Record<string, string>;
}

function baseEnv(home: string): Record<string, string> {
  const tmp = join(home, 'tmp');
  mkdirSync(tmp, { recursive: true });
  return {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    USER: process.env.USER ?? 'root',
    LANG: 'C.UTF-8',
    TMPDIR: tmp,
    NO_COLOR: '1',
  };
}

function binOf(cli: OtherCli): string {
  const v = cli === 'opencode' ? process.env.OPENCODE_BIN : process.env.AMP_BIN;
  if (!v) throw new Error(`set ${cli === 'opencode' ? 'OPENCODE_BIN' : 'AMP_BIN'}`);
  return v;
}

/** opencode: config in ~/.config/opencode/opencode.json, the prompt on stdin (as the adapter does). */
function opencodeSetup(serverUrl: string, home: string, resume?: string): Setup {
  const dir = join(home, '.config', 'opencode');
  mkdirSync(dir, { recursive: true });
  const config = {
    $schema: 'https://opencode.ai/config.json',
    autoupdate: false,
    share: 'disabled',
    model: `local/${OPENCODE_MODEL}`,
    provider: {
      local: {
        npm: '@ai-sdk/anthropic',
        name: 'Local scripted',
        options: { baseURL: `${serverUrl}/v1`, apiKey: 'sk-scripted-test' },
        models: { [OPENCODE_MODEL]: { name: OPENCODE_MODEL, tool_call: true } },
      },
    },
  };
  writeFileSync(join(dir, 'opencode.json'), `${JSON.stringify(config, null, 2)}\n`);
  const env = {
    ...baseEnv(home),
    // No models.dev fetch, update check, npm-installed default plugins, LSP downloads or sharing.
    OPENCODE_DISABLE_MODELS_FETCH: '1',
    OPENCODE_DISABLE_AUTOUPDATE: '1',
    OPENCODE_DISABLE_DEFAULT_PLUGINS: '1',
    OPENCODE_DISABLE_LSP_DOWNLOAD: '1',
    OPENCODE_DISABLE_SHARE: '1',
  };
  const argv = ['run', '--format', 'json'];
  if (resume) argv.push('--session', resume);
  return { bin: binOf('opencode'), argv, env };
}

function ampSetup(serverUrl: string, home: string): Setup {
  return {
    bin: binOf('amp'),
    argv: ['--execute', '--stream-json', '--dangerously-allow-all'],
    env: { ...baseEnv(home), AMP_URL: serverUrl, AMP_API_KEY: 'sgamp_scripted_test' },
  };
}

/** A stand-in for the Amp service (AMP_URL) answering every request with `status`. */
function startAmpServiceStub(status: number): Promise<ModelServer> {
  return startServer(
    { status },
    (_req, error) => ({
      kind: 'error',
      status: error?.status ?? status,
      send: (res) => sendJson(res, status, { error: 'Unauthorized' }),
    }),
    { quiet: true },
  );
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  timedOut: boolean;
}

function run(setup: Setup, prompt: string, cwd: string, timeoutMs = 120_000): Promise<Run> {
  const started = Date.now();
  const child = spawn(setup.bin, setup.argv, {
    cwd,
    env: setup.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdin.end(prompt);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  let timedOut = false;
  const kill = () => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {}
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, timeoutMs);
  return new Promise((resolve, reject) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      kill();
      resolve({ code, signal, stdout, stderr, durationMs: Date.now() - started, timedOut });
    });
  });
}

interface Recording {
  cli: OtherCli;
  name: string;
  scenario: Scenario;
  resume?: boolean;
  note: string;
}

const RECORDINGS: Recording[] = [
  {
    cli: 'opencode',
    name: 'tool-use-success',
    scenario: OPENCODE_SUCCESS,
    note: 'step_start, text, tool_use (bash, completed), step_finish "tool-calls", step_start, text, step_finish "stop"; exit 0',
  },
  {
    cli: 'opencode',
    name: 'auth-error-401',
    scenario: { status: 401 },
    note: '401 "invalid x-api-key" to everything: one `error` event (APIError, statusCode 401, not retryable) and nothing else; exit 1',
  },
  {
    cli: 'opencode',
    name: 'resume',
    scenario: OPENCODE_SUCCESS,
    resume: true,
    note: '--session <sessionID> follow-up of a tool-use-success session; exit 0',
  },
  {
    cli: 'amp',
    name: 'auth-error-401',
    scenario: { status: 401 },
    note: 'AMP_URL answers 401 to everything (the first call is POST /api/internal?getUserInfo): nothing on stdout, "Invalid or missing API key" on stderr; exit 1',
  },
];

function sessionOf(stdout: string): string {
  for (const line of stdout.split('\n')) {
    try {
      const o = JSON.parse(line) as { sessionID?: unknown };
      if (typeof o.sessionID === 'string') return o.sessionID;
    } catch {}
  }
  throw new Error('no sessionID in opencode output');
}

async function record(rec: Recording, outDir: string, version: string) {
  const root = mkdtempSync(join(tmpdir(), 'ab-rec-'));
  const home = join(root, 'home');
  const cwd = join(root, 'project');
  mkdirSync(cwd, { recursive: true });
  let server: ModelServer | undefined;
  try {
    server =
      rec.cli === 'opencode'
        ? await startAnthropicServer(rec.scenario)
        : await startAmpServiceStub((rec.scenario as { status: number }).status);
    const setupFor = (resume?: string) =>
      rec.cli === 'opencode'
        ? opencodeSetup(server?.url ?? '', home, resume)
        : ampSetup(server?.url ?? '', home);
    let setup = setupFor();
    let first: Run | undefined;
    let prompt = PROMPT;
    if (rec.resume) {
      first = await run(setup, PROMPT, cwd);
      setup = setupFor(sessionOf(first.stdout));
      prompt = FOLLOW_UP_PROMPT;
    }
    const r = await run(setup, prompt, cwd);
    const s = (t: string) => scrub(t, cwd, home, server?.port ?? 0);
    const base = join(outDir, rec.name);
    writeFileSync(`${base}.jsonl`, s(r.stdout));
    writeFileSync(`${base}.stderr.txt`, s(r.stderr));
    const { PATH: _path, ...env } = setup.env;
    const meta = {
      cli: rec.cli,
      version,
      note: rec.note,
      argv: [basename(setup.bin), ...setup.argv.map(s)],
      stdin: prompt,
      env: JSON.parse(s(JSON.stringify(env))) as Record<string, string>,
      ...(rec.cli === 'opencode'
        ? {
            configFile: '/home/user/.config/opencode/opencode.json',
            config: JSON.parse(
              s(readFileSync(join(home, '.config', 'opencode', 'opencode.json'), 'utf8')),
            ) as unknown,
          }
        : {}),
      ...(first
        ? {
            resumedFrom: {
              argv: [basename(setup.bin), 'run', '--format', 'json'],
              stdin: PROMPT,
              exitCode: first.code,
            },
          }
        : {}),
    };
    writeMeta(base, `${rec.cli}/${rec.name}`, meta, {
      run: r,
      cwd,
      scenario: rec.scenario,
      server,
    });
  } finally {
    await server?.close();
    rmSync(root, { recursive: true, force: true });
  }
}

const here = dirname(fileURLToPath(import.meta.url));

function projectRoot(): string {
  let dir = here;
  while (!existsSync(join(dir, 'package.json')) || basename(dir) === 'dist') {
    const up = dirname(dir);
    if (up === dir) throw new Error('package.json not found');
    dir = up;
  }
  return dir;
}

async function main() {
  const args = process.argv.slice(2);
  const clis = (args.length ? args : ['opencode', 'amp']) as OtherCli[];
  for (const cli of clis) {
    const outDir = join(projectRoot(), 'test', 'fixtures', 'recorded', cli);
    mkdirSync(outDir, { recursive: true });
    const version = execFileSync(binOf(cli), ['--version'], {
      encoding: 'utf8',
      env: baseEnv(mkdtempSync(join(tmpdir(), 'ab-ver-'))),
    }).trim();
    for (const rec of RECORDINGS.filter((r) => r.cli === cli)) await record(rec, outDir, version);
  }
}

if (
  process.env.NODE_TEST_CONTEXT === undefined &&
  process.argv[1] &&
  fileURLToPath(import.meta.url) === process.argv[1]
) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
