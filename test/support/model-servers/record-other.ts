/**
 * Records the real output of opencode, GitHub Copilot CLI, Qwen Code and Amp into
 * test/fixtures/recorded/<cli>/. Not a test file. Run after a build:
 *
 *   node dist/test/support/model-servers/record-other.js [opencode] [copilot] [qwen] [amp]
 *
 * opencode, copilot and qwen are dev dependencies (node_modules/.bin) and are set up by
 * `cliEnv` (cli-env.ts): opencode through a custom provider on the Anthropic wire, Copilot and Qwen
 * Code on the OpenAI chat completions wire. The prompt goes on stdin, as the adapters send it.
 * Amp is not a dependency (AMP_BIN=/path/to/amp): it has no model base URL, `AMP_URL` points the
 * whole CLI at the Amp service, so only its answer to a 401 from that service can be recorded.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CliKind, COPILOT_CACHE, cliEnv } from './cli-env.js';
import { type ModelServer, sendJson, startServer } from './http.js';
import { startModelServer } from './index.js';
import { openaiErrorBody } from './openai-chat.js';
import { FOLLOW_UP_PROMPT, PROMPT, SHELL_COMMAND, scrub, writeMeta } from './record.js';
import type { ModelTurn, Scenario } from './scenario.js';

type OtherCli = 'opencode' | 'copilot' | 'qwen' | 'amp';

const OPENCODE_MODEL = 'claude-scripted';
const OPENCODE_SUCCESS: ModelTurn[] = [
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

function ampBin(): string {
  const v = process.env.AMP_BIN;
  if (!v) throw new Error('set AMP_BIN');
  return v;
}

/** opencode, copilot, qwen: `cliEnv` without the prompt argument (it goes on stdin). */
function cliSetup(cli: CliKind, serverUrl: string, home: string, resume?: string): Setup {
  const s = cliEnv(cli, serverUrl, home, {
    ...(cli === 'opencode' ? { model: OPENCODE_MODEL } : {}),
    ...(resume ? { resume } : {}),
  });
  return { bin: s.bin, argv: s.argv, env: s.env };
}

function ampSetup(serverUrl: string, home: string): Setup {
  return {
    bin: ampBin(),
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
  /** Changes the argv (e.g. drops the allow-all flag) and the environment of the recorded run. */
  argv?: (argv: string[]) => string[];
  env?: Record<string, string>;
  note: string;
}

const CHAT_SUCCESS: ModelTurn[] = [
  { text: 'I will create the file.', tool: { shell: SHELL_COMMAND, description: 'Write out.txt' } },
  { text: 'Created out.txt containing hello. DONE' },
  { text: 'I created out.txt with the shell tool. DONE' },
];
const DENIED: Scenario = [
  { text: 'I will create the file.', tool: { shell: SHELL_COMMAND, description: 'Write out.txt' } },
  { text: 'The command was not allowed. DONE' },
];
const OPENCODE_DENIED: Scenario = [
  {
    text: 'I will create the file.',
    tool: { name: 'bash', input: { command: SHELL_COMMAND, description: 'Write out.txt' } },
  },
  { text: 'The command was not allowed. DONE' },
];
const RATE_LIMITED = (after: ModelTurn[]): Scenario => ({
  status: 429,
  times: 2,
  headers: { 'retry-after': '2' },
  afterwards: after,
});
/** An expired key, as an Anthropic-wire provider words it (a 401 authentication_error). */
const ANTHROPIC_EXPIRED: Scenario = {
  status: 401,
  body: {
    type: 'error',
    error: { type: 'authentication_error', message: 'invalid x-api-key: this API key has expired' },
  },
};
/** An expired key in OpenAI's error shape (401 `invalid_api_key`). */
const OPENAI_EXPIRED: Scenario = {
  status: 401,
  body: {
    error: {
      message: 'Your API key has expired. Please generate a new API key.',
      type: 'invalid_request_error',
      param: null,
      code: 'invalid_api_key',
    },
  },
};
const without = (flag: string) => (argv: string[]) => argv.filter((a) => a !== flag);
const replace = (from: string[], to: string[]) => (argv: string[]) => {
  const i = argv.indexOf(from[0] as string);
  return i < 0 ? argv : [...argv.slice(0, i), ...to, ...argv.slice(i + from.length)];
};

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
    name: 'auth-expired',
    scenario: ANTHROPIC_EXPIRED,
    note: '401 authentication_error "…this API key has expired": one `error` event with the words; exit 1',
  },
  {
    cli: 'opencode',
    name: 'rate-limit-429',
    scenario: RATE_LIMITED(OPENCODE_SUCCESS),
    note: '429 with retry-after: 2 to the first two requests: retried silently (nothing printed), then the tool run; exit 0',
  },
  {
    cli: 'opencode',
    name: 'permission-denial',
    scenario: OPENCODE_DENIED,
    env: { OPENCODE_PERMISSION: JSON.stringify({ bash: 'ask', edit: 'ask', webfetch: 'ask' }) },
    note: 'OPENCODE_PERMISSION makes bash ask: auto-rejected ("The user rejected permission…", tool state error), no final step; exit 0',
  },
  {
    cli: 'opencode',
    name: 'text-format',
    scenario: OPENCODE_SUCCESS,
    argv: replace(['--format', 'json'], ['--format', 'default']),
    note: '--format default: plain text, nothing the parser knows; exit 0',
  },
  {
    cli: 'opencode',
    name: 'resume',
    scenario: OPENCODE_SUCCESS,
    resume: true,
    note: '--session=<sessionID> follow-up of a tool-use-success session; exit 0',
  },
  {
    cli: 'copilot',
    name: 'tool-use-success',
    scenario: CHAT_SUCCESS,
    note: 'assistant.message with toolRequests (bash), tool.execution_start/complete, final assistant.message, result exitCode 0; no token counts',
  },
  {
    cli: 'copilot',
    name: 'auth-error-401',
    scenario: { status: 401 },
    note: '401 invalid_api_key: model.call_failure ×3 (retried as transient_auth_error), session.error errorType authentication, result exitCode 1; exit 1',
  },
  {
    cli: 'copilot',
    name: 'auth-expired',
    scenario: OPENAI_EXPIRED,
    note: '401 "Your API key has expired…": like auth-error-401, the provider words only in model.call_failure; exit 1',
  },
  {
    cli: 'copilot',
    name: 'rate-limit-429',
    scenario: RATE_LIMITED(CHAT_SUCCESS),
    note: '429 retry-after 2 twice: model.call_failure at once, then a wait, assistant.turn_retry, success; exit 0',
  },
  {
    cli: 'copilot',
    name: 'permission-denial',
    scenario: DENIED,
    argv: without('--allow-all-tools'),
    note: 'without --allow-all-tools: tool.execution_complete error.code "denied"; the run goes on; exit 0',
  },
  {
    cli: 'copilot',
    name: 'text-format',
    scenario: CHAT_SUCCESS,
    argv: replace(['--output-format', 'json'], ['--output-format', 'text']),
    note: '--output-format text: plain text; exit 0',
  },
  {
    cli: 'copilot',
    name: 'usage-error',
    scenario: CHAT_SUCCESS,
    argv: (a) => [...a, '--no-such-flag'],
    note: 'an unknown flag: "error: unexpected argument…" on stderr; exit 1',
  },
  {
    cli: 'copilot',
    name: 'resume',
    scenario: CHAT_SUCCESS,
    resume: true,
    note: '--resume=<sessionId> follow-up of a tool-use-success session; exit 0',
  },
  {
    cli: 'qwen',
    name: 'tool-use-success',
    scenario: CHAT_SUCCESS,
    note: 'Claude-shaped: system/init, assistant text, assistant tool_use run_shell_command, user tool_result, assistant text, result (usage, no cost); exit 0',
  },
  {
    cli: 'qwen',
    name: 'auth-error-401',
    scenario: { status: 401, body: openaiErrorBody(401) },
    note: '401 invalid_api_key: an assistant text and a result subtype "success", is_error false, result "[API Error: 401 …]"; exit 0',
  },
  {
    cli: 'qwen',
    name: 'auth-expired',
    scenario: OPENAI_EXPIRED,
    note: '401 "Your API key has expired…": "[API Error: 401 Your API key has expired…]" as a success result; exit 0',
  },
  {
    cli: 'qwen',
    name: 'rate-limit-429',
    scenario: RATE_LIMITED(CHAT_SUCCESS),
    note: '429 retry-after 2 twice: retried silently (nothing on stdout or stderr), then the tool run; exit 0',
  },
  {
    cli: 'qwen',
    name: 'permission-denial',
    scenario: DENIED,
    argv: replace(['--yolo'], ['--approval-mode', 'default']),
    note: '--approval-mode default: tool_result is_error "…requires permission… declined", result permission_denials; exit 0',
  },
  {
    cli: 'qwen',
    name: 'text-format',
    scenario: CHAT_SUCCESS,
    argv: replace(['-o', 'stream-json'], ['-o', 'text']),
    note: '-o text: plain text; exit 0',
  },
  {
    cli: 'qwen',
    name: 'config-no-auth-type',
    scenario: CHAT_SUCCESS,
    argv: replace(['--auth-type', 'openai'], []),
    note: 'no --auth-type and no settings: result error_during_execution "No auth type is selected…"; exit 0',
  },
  {
    cli: 'qwen',
    name: 'resume',
    scenario: CHAT_SUCCESS,
    resume: true,
    note: '--resume=<session_id> follow-up: the result usage is the session total (first run included); exit 0',
  },
  {
    cli: 'amp',
    name: 'auth-error-401',
    scenario: { status: 401 },
    note: 'AMP_URL answers 401 to everything (the first call is POST /api/internal?getUserInfo): nothing on stdout, "Invalid or missing API key" on stderr; exit 1',
  },
];

function sessionOf(cli: OtherCli, stdout: string): string {
  for (const line of stdout.split('\n')) {
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      const id = cli === 'opencode' ? o.sessionID : cli === 'copilot' ? o.sessionId : o.session_id;
      if (typeof id === 'string' && (cli !== 'copilot' || o.type === 'result')) return id;
    } catch {}
  }
  throw new Error(`no session id in ${cli} output`);
}

async function record(rec: Recording, outDir: string, version: string) {
  const root = mkdtempSync(join(tmpdir(), 'ab-rec-'));
  const home = join(root, 'home');
  const cwd = join(root, 'project');
  mkdirSync(cwd, { recursive: true });
  let server: ModelServer | undefined;
  try {
    server =
      rec.cli === 'amp'
        ? await startAmpServiceStub((rec.scenario as { status: number }).status)
        : await startModelServer(rec.cli, rec.scenario);
    const url = server.url;
    const setupFor = (resume?: string): Setup =>
      rec.cli === 'amp' ? ampSetup(url, home) : cliSetup(rec.cli, url, home, resume);
    let setup = setupFor();
    let first: Run | undefined;
    let prompt = PROMPT;
    if (rec.resume) {
      first = await run(setup, PROMPT, cwd);
      setup = setupFor(sessionOf(rec.cli, first.stdout));
      prompt = FOLLOW_UP_PROMPT;
    }
    setup = {
      ...setup,
      argv: rec.argv ? rec.argv(setup.argv) : setup.argv,
      env: { ...setup.env, ...rec.env },
    };
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
              argv: [basename(setupFor().bin), ...setupFor().argv],
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
  const names = args.filter((a) => !a.startsWith('--only='));
  const only = args
    .find((a) => a.startsWith('--only='))
    ?.slice('--only='.length)
    .split(',');
  const clis = (names.length ? names : ['opencode', 'copilot', 'qwen']) as OtherCli[];
  for (const cli of clis) {
    const outDir = join(projectRoot(), 'test', 'fixtures', 'recorded', cli);
    mkdirSync(outDir, { recursive: true });
    const verHome = mkdtempSync(join(tmpdir(), 'ab-ver-'));
    const bin = cli === 'amp' ? ampBin() : cliSetup(cli, 'http://127.0.0.1:9', verHome).bin;
    const version = execFileSync(bin, ['--version'], {
      encoding: 'utf8',
      env: { ...baseEnv(verHome), ...(cli === 'copilot' ? { XDG_CACHE_HOME: COPILOT_CACHE } : {}) },
    }).trim();
    for (const rec of RECORDINGS.filter((r) => r.cli === cli && (!only || only.includes(r.name))))
      await record(rec, outDir, version);
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
