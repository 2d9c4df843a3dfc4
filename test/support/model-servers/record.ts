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
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CliEnvOptions, type CliKind, cliBin, cliEnv } from './cli-env.js';
import type { ModelServer } from './http.js';
import { startModelServer } from './index.js';
import { type CliRun, jsonLines, runCli } from './run-cli.js';
import type { Scenario } from './scenario.js';

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
  note: string;
}

const RECORDINGS: Record<CliKind, Recording[]> = {
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
    let setup = cliEnv(kind, server.url, home, rec.opts);
    let run: CliRun;
    let first: CliRun | undefined;
    if (rec.resume) {
      first = await runCli(setup, PROMPT, { cwd, timeoutMs: 90_000 });
      setup = cliEnv(kind, server.url, home, {
        ...rec.opts,
        resume: sessionId(kind, first.stdout),
      });
      run = await runCli(setup, FOLLOW_UP_PROMPT, { cwd, timeoutMs: 90_000 });
    } else {
      run = await runCli(setup, PROMPT, { cwd, timeoutMs: 90_000 });
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
  const kinds = (
    process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(RECORDINGS)
  ) as CliKind[];
  for (const kind of kinds) {
    const recs = RECORDINGS[kind];
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
