/**
 * Records the real CLIs' output against the scripted servers into test/fixtures/recorded/<cli>/.
 * Not a test file. Run after a build:
 *
 *   node dist/test/support/model-servers/record.js [claude|codex|gemini ...]
 *
 * Each scenario writes `<name>.jsonl` (stdout), `<name>.stderr.txt` and `<name>.meta.json` (CLI
 * version, argv, env, exit code, duration, the script and the requests the server saw). The temp
 * cwd becomes /home/user/project, the temp HOME /home/user, the server port PORT.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CliEnvOptions, type CliKind, cliBin, cliEnv } from './cli-env.js';
import type { ModelServer } from './http.js';
import { startModelServer } from './index.js';
import { type CliRun, jsonLines, runCli } from './run-cli.js';
import { type Scenario, scenarioTurns, tokens } from './scenario.js';
import { EXPIRED_KEY } from './scenarios.js';

export const SHELL_COMMAND = 'echo hello > out.txt && cat out.txt';
export const PROMPT = 'Create out.txt containing hello, then say DONE.';
export const FOLLOW_UP_PROMPT = 'What did you just do? Answer in one line.';

export const SUCCESS: Scenario = [
  { text: 'I will create the file.', tool: { shell: SHELL_COMMAND, description: 'Write out.txt' } },
  { text: 'Created out.txt containing hello. DONE' },
  { text: 'I created out.txt with the shell tool. DONE' },
];

export const THINKING: Scenario = [
  {
    thinking: 'The user wants a file named out.txt. A shell command is the quickest way.',
    text: 'I will create the file.',
    tool: { shell: SHELL_COMMAND, description: 'Write out.txt' },
  },
  { thinking: 'The command printed hello, so the file exists.', text: 'Created out.txt. DONE' },
];

interface Recording {
  name: string;
  scenario: Scenario;
  opts?: CliEnvOptions;
  /** Run a first time, then record a `--resume` follow-up of that session. */
  resume?: boolean;
  /** Changes the base argv (a permission mode, a budget, a bad flag) before the prompt is added. */
  argv?: (argv: string[]) => string[];
  /** Changes the CLI's config files in the fresh HOME after `cliEnv` wrote them. */
  prepare?: (home: string) => void;
  /** Time bound; default 90 s. */
  timeoutMs?: number;
  note: string;
}

/** Replaces the value after `flag` in an argv (e.g. a permission mode). */
function setFlag(flag: string, value: string): (argv: string[]) => string[] {
  return (argv) => {
    const i = argv.indexOf(flag);
    if (i < 0) return [...argv, flag, value];
    return [...argv.slice(0, i + 1), value, ...argv.slice(i + 2)];
  };
}

/** The CLIs this recorder covers (record-other.ts records the rest). */
type RecordedKind = 'claude' | 'codex' | 'gemini';

/** The exact bodies each provider answers an expired credential with. */
const EXPIRED: Record<RecordedKind, Scenario> = {
  // Anthropic's answer to an expired OAuth access token.
  claude: {
    status: 401,
    body: {
      type: 'error',
      error: {
        type: 'authentication_error',
        message:
          'OAuth token has expired. Please obtain a new token or refresh your existing token.',
      },
      request_id: 'req_011CexpiredScripted',
    },
  },
  // OpenAI's answer to an expired access token.
  codex: {
    status: 401,
    body: {
      error: {
        message: 'Provided authentication token is expired. Please try signing in again.',
        type: 'invalid_request_error',
        param: null,
        code: 'token_expired',
      },
    },
  },
  // Google's answer to an expired API key (a 400, not a 401): the one the e2e tests send.
  gemini: EXPIRED_KEY.gemini,
};

/**
 * Two 429s with a retry-after of 1 s, then the tool-use conversation. Gemini's body carries a
 * RetryInfo delay as Google's do, unless `retryInfo` is false.
 */
function rateLimited(kind: CliKind, retryInfo = true): Scenario {
  const body =
    kind === 'claude'
      ? {
          type: 'error',
          error: {
            type: 'rate_limit_error',
            message: 'Number of request tokens has exceeded your per-minute rate limit',
          },
        }
      : kind === 'codex'
        ? {
            error: {
              message: 'Rate limit reached for requests',
              type: 'requests',
              param: null,
              code: 'rate_limit_exceeded',
            },
          }
        : {
            error: {
              code: 429,
              message: 'Resource has been exhausted (e.g. check quota).',
              status: 'RESOURCE_EXHAUSTED',
              // Google's 429s say how long to wait; Gemini CLI then prints a two-line notice.
              ...(retryInfo
                ? {
                    details: [
                      { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: '1s' },
                    ],
                  }
                : {}),
            },
          };
  return {
    status: 429,
    body,
    headers: { 'retry-after': '1' },
    times: 2,
    afterwards: scenarioTurns(SUCCESS),
  };
}

const BAD_FLAG = (argv: string[]) => [...argv, '--no-such-flag'];

const RECORDINGS: Record<RecordedKind, Recording[]> = {
  claude: [
    {
      name: 'tool-use-success',
      scenario: SUCCESS,
      note: 'text + Bash tool call, result sent back, final text; exit 0',
    },
    {
      name: 'thinking',
      scenario: THINKING,
      note: 'like tool-use-success, each turn starting with a thinking block',
    },
    {
      name: 'auth-error-401',
      scenario: { status: 401 },
      opts: { maxRetries: 2 },
      note: '401 "invalid x-api-key" to everything, CLAUDE_CODE_MAX_RETRIES=2: two system/api_retry events, then an error result; exit 1',
    },
    {
      name: 'server-error-500',
      scenario: { status: 500 },
      opts: { maxRetries: 0 },
      note: '500 to everything, CLAUDE_CODE_MAX_RETRIES=0: error result at once; exit 1',
    },
    {
      name: 'resume',
      scenario: SUCCESS,
      resume: true,
      note: '--resume <session_id> follow-up of a tool-use-success session; exit 0',
    },
    {
      name: 'auth-expired',
      scenario: EXPIRED.claude,
      opts: { maxRetries: 1 },
      note: 'Anthropic\'s 401 "OAuth token has expired…" to everything, CLAUDE_CODE_MAX_RETRIES=1',
    },
    {
      name: 'rate-limit-429',
      scenario: rateLimited('claude'),
      note: 'two 429s with retry-after: 1, then the tool-use conversation',
    },
    {
      name: 'permission-denial',
      scenario: SUCCESS,
      argv: setFlag('--permission-mode', 'default'),
      note: '--permission-mode default, headless: the Bash call is refused (tool_result error + result.permission_denials), the model ends its turn; exit 0',
    },
    {
      name: 'budget',
      scenario: SUCCESS,
      argv: (a) => [...a, '--max-budget-usd', '0.0001'],
      note: '--max-budget-usd 0.0001: the CLI stops itself after the first request',
    },
    {
      name: 'usage-error',
      scenario: SUCCESS,
      argv: BAD_FLAG,
      note: 'an unknown option: the CLI refuses its command line',
    },
  ],
  codex: [
    {
      name: 'tool-use-success',
      scenario: SUCCESS,
      note: 'agent_message, command_execution (exec_command), agent_message; exit 0',
    },
    {
      name: 'thinking',
      scenario: THINKING,
      note: 'like tool-use-success with a reasoning summary item before each message',
    },
    {
      name: 'auth-error-401',
      scenario: { status: 401 },
      opts: { maxRetries: 1 },
      note: '401 to everything, stream/request_max_retries=1: one "Reconnecting... 1/1" error, then error + turn.failed; exit 1',
    },
    {
      name: 'server-error-500',
      scenario: { status: 500 },
      opts: { maxRetries: 0 },
      note: '500 to everything, no retries: error + turn.failed with a generic message (the body is not shown); exit 1',
    },
    {
      name: 'resume',
      scenario: SUCCESS,
      resume: true,
      note: 'codex exec resume <thread_id> follow-up of a tool-use-success thread; exit 0',
    },
    {
      name: 'auth-expired',
      scenario: EXPIRED.codex,
      opts: { maxRetries: 1 },
      note: "OpenAI's 401 token_expired to everything, request/stream_max_retries=1",
    },
    {
      name: 'rate-limit-429',
      scenario: rateLimited('codex'),
      note: 'two 429s with retry-after: 1, then the tool-use conversation',
    },
    {
      name: 'permission-denial',
      scenario: SUCCESS,
      argv: setFlag('--sandbox', 'read-only'),
      note: '--sandbox read-only (exec: approval never): the shell command writing out.txt is refused',
    },
    {
      name: 'usage-error',
      scenario: SUCCESS,
      argv: BAD_FLAG,
      note: 'an unknown option: the CLI refuses its command line',
    },
  ],
  gemini: [
    {
      name: 'tool-use-success',
      scenario: SUCCESS,
      note: 'streamed text deltas, run_shell_command tool_use/tool_result, text; exit 0',
    },
    {
      name: 'thinking',
      scenario: THINKING,
      note: 'like tool-use-success with a thought part before each text',
    },
    {
      name: 'auth-error-401',
      scenario: { status: 401 },
      note: '401 to everything: an error result at once; the exit code is the HTTP status mod 256 (145)',
    },
    {
      name: 'server-error-500',
      scenario: { status: 500 },
      opts: { maxRetries: 1 },
      note: '500 to everything, general.maxAttempts=2: one retry after a backoff, then an error result; exit 244 (500 mod 256)',
    },
    {
      name: 'resume',
      scenario: SUCCESS,
      resume: true,
      note: '--resume <session_id> follow-up of a tool-use-success session; exit 0',
    },
    {
      name: 'auth-expired',
      scenario: EXPIRED.gemini,
      note: 'Google\'s 400 API_KEY_INVALID "API key expired. Please renew the API key." to everything',
    },
    {
      name: 'config-no-auth-type',
      scenario: SUCCESS,
      prepare: (home) => {
        const file = join(home, '.gemini', 'settings.json');
        const settings = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
        delete settings.security;
        writeFileSync(file, `${JSON.stringify(settings, null, 2)}\n`);
      },
      note: 'settings.json without security.auth.selectedType',
    },
    {
      name: 'rate-limit-429',
      scenario: rateLimited('gemini'),
      note: 'two 429s with retry-after: 1, then the tool-use conversation',
    },
    {
      name: 'rate-limit-429-backoff',
      scenario: rateLimited('gemini', false),
      note: 'two 429s without RetryInfo, retry-after: 1, then the tool-use conversation',
    },
    {
      name: 'server-error-500-then-success',
      scenario: { status: 500, times: 1, afterwards: scenarioTurns(SUCCESS) },
      note: 'one 500, then the tool-use conversation',
    },
    {
      name: 'permission-denial',
      scenario: SUCCESS,
      argv: setFlag('--approval-mode', 'default'),
      note: '--approval-mode default, non-interactive: the shell tool call is refused',
    },
    {
      name: 'usage-error',
      scenario: SUCCESS,
      argv: BAD_FLAG,
      note: 'an unknown option: the CLI refuses its command line',
    },
  ],
};

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

export function cliVersion(kind: CliKind): string {
  return execFileSync(cliBin(kind), ['--version'], { encoding: 'utf8' }).trim();
}

/** Rewrites temp paths and the port so recordings are stable and host-independent. */
/**
 * Completes a recording's meta.json with what every recording has (exit, timing,
 * whether out.txt appeared, the script, the requests the server saw), writes it,
 * and says so.
 */
export function writeMeta(
  base: string,
  label: string,
  meta: Record<string, unknown>,
  o: {
    run: { code: number | null; signal: string | null; timedOut: boolean; durationMs: number };
    cwd: string;
    scenario: unknown;
    server: ModelServer;
  },
): void {
  const full = {
    ...meta,
    exitCode: o.run.code,
    signal: o.run.signal,
    timedOut: o.run.timedOut,
    durationMs: o.run.durationMs,
    outFileContent: existsSync(join(o.cwd, 'out.txt')) ? 'present' : 'absent',
    scenario: o.scenario,
    requests: o.server.requests.map((r) => ({
      seq: r.seq,
      method: r.method,
      url: r.url,
      kind: r.kind,
      ...(r.turn === undefined ? {} : { turn: r.turn }),
      status: r.status,
      // What the server billed for it (its own formula, for tests that add up a run's requests).
      inputTokens: r.usage?.input ?? tokens(JSON.stringify(r.body ?? '')),
    })),
  };
  writeFileSync(`${base}.meta.json`, `${JSON.stringify(full, null, 2)}\n`);
  process.stdout.write(
    `${label}: exit ${o.run.code}${o.run.timedOut ? ' (timed out)' : ''} in ${o.run.durationMs} ms, ${o.server.requests.length} requests\n`,
  );
}

export function scrub(text: string, cwd: string, home: string, port: number): string {
  const slug = (p: string) => p.replace(/[^a-zA-Z0-9]/g, '-');
  const pairs: Array<[string, string]> = [
    [cwd, '/home/user/project'],
    [home, '/home/user'],
    [slug(cwd), slug('/home/user/project')],
    [`127.0.0.1:${port}`, '127.0.0.1:PORT'],
  ];
  let out = text;
  for (const [from, to] of pairs) out = out.split(from).join(to);
  return out;
}

function sessionId(kind: CliKind, stdout: string): string {
  for (const e of jsonLines(stdout)) {
    if (kind === 'codex' && e.type === 'thread.started') return String(e.thread_id);
    if (kind !== 'codex' && typeof e.session_id === 'string') return e.session_id;
  }
  throw new Error(`no session id in ${kind} output`);
}

async function record(kind: CliKind, rec: Recording, outDir: string, version: string) {
  const root = mkdtempSync(join(tmpdir(), 'ab-rec-'));
  const home = join(root, 'home');
  // Named "project": Gemini CLI derives its per-project dir names from the cwd's basename.
  const cwd = join(root, 'project');
  mkdirSync(cwd, { recursive: true });
  let server: ModelServer | undefined;
  try {
    server = await startModelServer(kind, rec.scenario, { quiet: false });
    const setUp = (opts?: CliEnvOptions) => {
      const s = cliEnv(kind, (server as ModelServer).url, home, opts);
      rec.prepare?.(home);
      return rec.argv ? { ...s, argv: rec.argv(s.argv) } : s;
    };
    let setup = setUp(rec.opts);
    const timeoutMs = rec.timeoutMs ?? 90_000;
    let run: CliRun;
    let first: CliRun | undefined;
    let firstRequests = 0;
    if (rec.resume) {
      first = await runCli(setup, PROMPT, { cwd, timeoutMs });
      firstRequests = server.requests.length;
      setup = setUp({ ...rec.opts, resume: sessionId(kind, first.stdout) });
      run = await runCli(setup, FOLLOW_UP_PROMPT, { cwd, timeoutMs });
    } else {
      run = await runCli(setup, PROMPT, { cwd, timeoutMs });
    }
    const s = (t: string) => scrub(t, cwd, home, server?.port ?? 0);
    const base = join(outDir, rec.name);
    writeFileSync(`${base}.jsonl`, s(run.stdout));
    writeFileSync(`${base}.stderr.txt`, s(run.stderr));
    const { PATH: _path, ...env } = setup.env;
    const meta = {
      cli: kind,
      version,
      note: rec.note,
      argv: [basename(setup.bin), ...run.args.map(s)],
      env: JSON.parse(s(JSON.stringify(env))) as Record<string, string>,
      ...(first
        ? {
            resumedFrom: {
              argv: [basename(setup.bin), ...first.args.map(s)],
              exitCode: first.code,
              // The server's first `requests` entries were the first run's.
              requests: firstRequests,
            },
          }
        : {}),
    };
    writeMeta(base, `${kind}/${rec.name}`, meta, { run, cwd, scenario: rec.scenario, server });
  } finally {
    await server?.close();
    rmSync(root, { recursive: true, force: true });
  }
}

async function main() {
  // Arguments: `claude` (all its recordings) or `claude/budget` (one).
  const picks = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(RECORDINGS);
  const kinds = [...new Set(picks.map((p) => p.split('/')[0]))] as RecordedKind[];
  for (const kind of kinds) {
    const names = picks
      .filter((p) => p.startsWith(`${kind}/`))
      .map((p) => p.slice(kind.length + 1));
    const recs = RECORDINGS[kind]?.filter((r) => names.length === 0 || names.includes(r.name));
    if (!recs) throw new Error(`unknown CLI ${kind}`);
    const outDir = join(projectRoot(), 'test', 'fixtures', 'recorded', kind);
    mkdirSync(outDir, { recursive: true });
    const version = cliVersion(kind);
    for (const rec of recs) await record(kind, rec, outDir, version);
  }
}

// `node --test dist/test/` runs every file under test/ (NODE_TEST_CONTEXT is set then): don't record.
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
