/**
 * One redaction for every channel (issue 16): a real agent process prints its
 * configured token and a secret-named env value (`MY_API_KEY`), and writes a
 * 26-character secret a few bytes at a time, while a real `agentboard serve`
 * runs it. Every way out of the board is then read: the CLI (human and
 * `--json`), the API's JSON, the SSE log and event streams, MCP answers, the
 * server's own log, the commit written for the worktree run, and 200 polls of
 * `/logs` during the slow write. None may show a secret, or any prefix of one
 * (each secret starts with 4 characters found nowhere else, so a prefix of 4+
 * characters is caught by looking for those).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { boardEnv, CLI_MAIN, type CliResult, runCli, ServeProcess } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { SseClient } from './sse-helpers.js';

const ALNUM = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const random = (n: number) => Array.from({ length: n }, () => ALNUM[randomInt(62)]).join('');

const TOKEN = `Tk9_${random(20)}`;
const API_KEY = `Ky7_${random(20)}`;
/** Written slowly: 2 characters every 0.5 s. */
const SLOW = `Qz9_${random(22)}`;
const SECRETS = { TOKEN, API_KEY, SLOW };

/** The success agent: token and key on stdout, the slow secret, then a file and a summary line. */
const WRITER = [
  'echo "token: $AGENTBOARD_AGENT_TOKEN"',
  'echo "key: $MY_API_KEY"',
  'printf "slow: "',
  's="$SLOW_SECRET"',
  'while [ -n "$s" ]; do',
  '  printf "%s" "$(printf "%s" "$s" | cut -c1-2)"',
  '  s="$(printf "%s" "$s" | cut -c3-)"',
  '  sleep 0.5',
  'done',
  'printf "\\n"',
  'echo work > work.txt',
  'echo "done: key $MY_API_KEY token $AGENTBOARD_AGENT_TOKEN"',
].join('\n');

/** The failing agent: the secrets on stderr, so they reach the error summary. */
const FAILER = [
  'echo "key: $MY_API_KEY token: $AGENTBOARD_AGENT_TOKEN" >&2',
  'echo "also $SLOW_SECRET" >&2',
  'exit 3',
].join('\n');

function git(cwd: string, ...args: string[]): string {
  return execFileSync(
    'git',
    ['-c', 'user.name=User', '-c', 'user.email=user@example.com', ...args],
    { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] },
  ).trim();
}

/** Which secrets `text` shows, in whole or as a prefix of 4+ characters. */
function leaks(text: string): string[] {
  return Object.entries(SECRETS)
    .filter(([, s]) => text.includes(s.slice(0, 4)))
    .map(([name]) => name);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 60_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test('a secret an agent prints is masked on every channel, and never shown in part', {
  timeout: 240_000,
}, async (t) => {
  const repo = tempDir('agentboard-redact-');
  git(repo, 'init', '--quiet', '--initial-branch=main');
  fs.writeFileSync(path.join(repo, '.gitignore'), '.agentboard/\n');
  git(repo, 'add', '--all');
  git(repo, 'commit', '--quiet', '-m', 'initial');
  const home = path.join(repo, '.agentboard');
  fs.mkdirSync(home);
  const env = { MY_API_KEY: API_KEY, SLOW_SECRET: SLOW };
  const agent = (script: string) => ({
    kind: 'command',
    command: '/bin/sh',
    args: ['-c', script],
    token: TOKEN,
    env,
  });
  fs.writeFileSync(
    path.join(home, 'config.yaml'),
    JSON.stringify({
      agents: { writer: agent(WRITER), failer: agent(FAILER) },
      defaults: { max_attempts: 1 },
      board: { autostart: true, on_success: 'review', workspace: 'worktree' },
    }),
  );

  const serve = new ServeProcess(home);
  t.after(() => serve.kill('SIGKILL'));
  await serve.waitReady();
  const base = serve.url;
  assert.ok(base, serve.output());

  /** Everything any channel showed, by channel. */
  const seen: [string, string][] = [];
  const saw = (channel: string, text: string) => seen.push([channel, text]);
  const cli = async (args: string[]): Promise<CliResult> => {
    const r = await runCli(home, args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
    saw(`cli ${args.join(' ')}`, r.stdout + r.stderr);
    return r;
  };
  const getText = async (url: string) => {
    const res = await fetch(`${base}${url}`, { headers: serve.authHeaders() });
    assert.equal(res.status, 200, url);
    return { res, text: await res.text() };
  };

  // T-1 writes slowly; its log is followed live and polled meanwhile.
  await cli(['task', 'add', 'Write slowly', '--agent', 'writer']);
  const run1 = await until('the writer run to start', async () => {
    const r = JSON.parse((await runCli(home, ['runs', '--task', 'T-1', '--json'])).stdout);
    return r[0]?.state === 'running' ? (r[0].id as string) : undefined;
  });
  const logFile = path.join(home, 'runs', run1, 'stdout.log');
  const live = await SseClient.connect(
    `${base}/api/v1/runs/${run1}/logs/stream`,
    serve.authHeaders(),
  );
  const events = await SseClient.connect(
    `${base}/api/v1/events/stream?after=0`,
    serve.authHeaders(),
  );
  await until('the slow write to begin', async () =>
    fs.existsSync(logFile) && fs.readFileSync(logFile, 'utf8').includes('slow: ')
      ? true
      : undefined,
  );

  // `agentboard logs` (no -f) run over and over meanwhile.
  let writing = true;
  const cliLogs = (async () => {
    let n = 0;
    while (writing) {
      await cli(['logs', 'T-1']);
      n++;
    }
    return n;
  })();

  // 200 polls during the write: half from the start, half following X-Next-Offset.
  let midWrite = 0;
  let next = 0;
  let followed = '';
  for (let i = 0; i < 200; i++) {
    const file = fs.readFileSync(logFile, 'latin1');
    if (!file.includes(SLOW)) midWrite++;
    const offset = i % 2 === 0 ? 0 : next;
    const { res, text } = await getText(`/api/v1/runs/${run1}/logs?offset=${offset}`);
    saw(`poll ${i} at ${offset}`, text);
    const body = Buffer.from(text);
    assert.equal(res.headers.get('x-next-offset'), String(offset + body.length));
    if (i % 2 === 1) {
      followed += text;
      next = offset + body.length;
    }
    await sleep(15);
  }
  writing = false;
  assert.ok(
    midWrite >= 20,
    `only ${midWrite} of 200 polls came while the secret was being written: the test proves nothing`,
  );
  assert.ok((await cliLogs) >= 1);

  // T-2 fails with the secrets in its stderr; the bus and a comment quote them too.
  await cli(['task', 'add', 'Fail loudly', '--agent', 'failer']);
  await cli(['bus', 'post', '--task', 'T-1', `agent says key=${API_KEY} token=${TOKEN}`]);
  await cli(['task', 'comment', 'T-2', `pasted ${SLOW} by mistake`]);
  const status = async (id: string) =>
    JSON.parse((await runCli(home, ['task', 'show', id, '--json'])).stdout).status as string;
  await until('T-1 in review', async () => ((await status('T-1')) === 'review' ? true : undefined));
  await until('T-2 blocked', async () => ((await status('T-2')) === 'blocked' ? true : undefined));

  // The poller that followed X-Next-Offset ends with exactly the redacted log.
  for (;;) {
    const { res, text } = await getText(`/api/v1/runs/${run1}/logs?offset=${next}`);
    saw('poll after the end', text);
    followed += text;
    next += Buffer.byteLength(text);
    if (text === '' && res.headers.get('x-run-state') !== 'running') break;
  }
  const whole = (await getText(`/api/v1/runs/${run1}/logs`)).text;
  saw('the whole log', whole);
  assert.equal(followed, whole, 'the followed polls add up to the log, no byte lost or repeated');
  assert.match(whole, new RegExp(`slow: \\*{${SLOW.length}}\\n`));
  assert.equal(Buffer.byteLength(whole), fs.statSync(logFile).size, 'masking keeps the length');

  await live.until('the live log to end', () => live.messages.some((m) => m.event === 'exit'));
  const liveText = live.messages
    .filter((m) => m.event === 'log')
    .map((m) => JSON.parse(m.data).text as string)
    .join('');
  live.close();
  saw('SSE log stream', liveText);
  assert.equal(liveText, whole);
  await events.until('RUN_STOP-ish events for both tasks', () => events.messages.length > 5);
  await sleep(500);
  events.close();
  saw('SSE event stream', events.messages.map((m) => m.data).join('\n'));

  // The CLI, human and --json.
  const runsJson = await cli(['runs', '--json']);
  assert.match(runsJson.stdout, /\*{24}/, 'the error summary is there, masked');
  await cli(['runs']);
  const show2 = await cli(['task', 'show', 'T-2']);
  assert.match(show2.stdout, /\*{24}/);
  await cli(['task', 'show', 'T-2', '--json']);
  await cli(['task', 'show', 'T-1']);
  await cli(['task', 'show', 'T-1', '--json']);
  await cli(['task', 'list']);
  const bus = await cli(['bus', 'read']);
  assert.match(bus.stdout, /key=\*{24} token=\*{24}/);
  await cli(['bus', 'read', '--json']);
  await cli(['bus', 'read', '--task', 'T-1', '--json']);
  const logs1 = await cli(['logs', 'T-1']);
  assert.equal(logs1.stdout, whole);
  await cli(['logs', 'T-2', '--stderr']);

  // The API's JSON.
  for (const url of [
    '/api/v1/runs',
    `/api/v1/runs/${run1}`,
    `/api/v1/runs/${run1}/events`,
    '/api/v1/tasks/T-1',
    '/api/v1/tasks/T-2',
    '/api/v1/messages',
    '/api/v1/events',
    `/api/v1/runs/${run1}/logs?stream=stderr`,
  ]) {
    saw(`GET ${url}`, (await getText(url)).text);
  }

  // MCP answers, through the SDK client.
  const client = new Client({ name: 'redaction-test', version: '1.0.0' });
  await client.connect(
    new StdioClientTransport({
      command: process.execPath,
      args: [CLI_MAIN, 'mcp'],
      env: boardEnv(home, { AGENTBOARD_AGENT: 'planner' }) as Record<string, string>,
      stderr: 'pipe',
    }),
  );
  t.after(() => client.close());
  for (const [name, args] of [
    ['get_task', { id: 'T-1' }],
    ['get_task', { id: 'T-2' }],
    ['list_tasks', {}],
    ['bus_read', {}],
    ['get_run_transcript', { run: run1 }],
    ['get_run_transcript', { run: 'T-2' }],
  ] as const) {
    const r = (await client.callTool({ name, arguments: args })) as {
      content: { text: string }[];
    };
    saw(`mcp ${name} ${JSON.stringify(args)}`, r.content.map((c) => c.text).join('\n'));
  }

  // The commit written for the worktree run.
  const commits = git(repo, 'log', '--all', '--format=%B');
  saw('commit messages', commits);
  assert.match(commits, /done: key \*{24} token \*{24}/);

  // The server's own log.
  await serve.stop();
  saw('server log', serve.output());

  const leaked = seen
    .map(([channel, text]) => ({ channel, secrets: leaks(text), text }))
    .filter((x) => x.secrets.length > 0);
  assert.deepEqual(
    leaked.map((x) => `${x.channel}: ${x.secrets.join(', ')}`),
    [],
    `secrets shown:\n${leaked
      .slice(0, 5)
      .map((x) => `--- ${x.channel}\n${x.text.slice(0, 1500)}`)
      .join('\n')}`,
  );
});
