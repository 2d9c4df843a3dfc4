import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { APPROVAL_HOOKS } from '../../src/agents/approval-hooks.js';
import { parseConfigText } from '../../src/config/load.js';
import type { ApprovalView } from '../../src/contract/approvals.js';
import { AgentboardError } from '../../src/domain/errors.js';
import { type ModelServer, startModelServer, toolResults } from '../support/model-servers/index.js';
import type { ModelTurn } from '../support/model-servers/scenario.js';
import {
  APPROVAL_FILES,
  APPROVAL_FINAL,
  approvalShell,
} from '../support/model-servers/scenarios.js';
import { type ServeProcess, startServe } from '../support/server.js';
import { tempDir } from '../support/tmp.js';
import { cliAgent, KINDS, sleep } from './harness.js';

/**
 * `approvals: board` with the real Claude Code (issue 18): a tool use Claude would ask about
 * becomes an approval request on a real `agentboard serve`, reached from agentboard's MCP server
 * (Claude's child) with the run's token, and the person's decision is what Claude does.
 */
const skip = KINDS.includes('claude') ? false : 'AB_E2E_KINDS leaves claude out';
const FIXTURES = fileURLToPath(
  new URL('../../../test/fixtures/claude-approvals/', import.meta.url),
);

interface TaskDetail {
  id: string;
  status: string;
  runs: Array<{ id: string; state: string; exitCode: number | null; denials: number }>;
}
interface Page {
  items: Array<Record<string, unknown> & { type: string }>;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until it returns something, within a generous deadline. */
async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  explain: () => Promise<string> = async () => '',
  ms = 150_000,
) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what} ${await explain().catch(String)}`);
    await sleep(200);
  }
}

class ApprovalBoard {
  server!: ServeProcess;
  constructor(
    readonly home: string,
    readonly workspace: string,
    readonly model: ModelServer,
    readonly port: number,
    private readonly log: string,
  ) {}

  /** (Re)starts `agentboard serve` on the same home and port: the agent's AGENTBOARD_URL stays right. */
  async start(): Promise<void> {
    this.server = await startServe(this.home, {
      args: ['--port', String(this.port)],
      logFile: this.log,
      timeoutMs: 60_000,
    });
  }

  async api<T>(method: string, route: string, body?: unknown): Promise<T> {
    const res = await this.server.fetch(route, {
      method,
      headers: {
        ...(method === 'GET' ? {} : { 'x-agentboard-request': '1' }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${route}: ${res.status} ${text}`);
    return JSON.parse(text) as T;
  }

  async addTask(): Promise<string> {
    const task = await this.api<{ id: string }>('POST', '/api/v1/tasks', {
      title: 'Create the approved files',
      body: 'Create approved-1.txt (and approved-2.txt if asked), then say DONE.',
      agent: 'claude',
    });
    return task.id;
  }

  task(id: string): Promise<TaskDetail> {
    return this.api<TaskDetail>('GET', `/api/v1/tasks/${id}`);
  }

  approvals(task: string): Promise<ApprovalView[]> {
    return this.api<{ items: ApprovalView[] }>(
      'GET',
      `/api/v1/approvals?task=${task}&limit=50`,
    ).then((r) => r.items);
  }

  /** The first request of the task still pending. */
  pending(task: string): Promise<ApprovalView> {
    return waitFor(
      `a pending approval on ${task}`,
      async () => (await this.approvals(task)).find((a) => a.state === 'pending'),
      this.explain(task),
    );
  }

  /** The task once its run has ended. */
  settled(task: string): Promise<TaskDetail> {
    return waitFor(
      `${task} to settle`,
      async () => {
        const d = await this.task(task);
        const run = d.runs[0];
        return run && !['queued', 'claimed', 'running'].includes(run.state) ? d : undefined;
      },
      this.explain(task),
    );
  }

  /** What the task's approvals are, for a timeout's message. */
  private explain(task: string): () => Promise<string> {
    return async () =>
      `(approvals: ${JSON.stringify((await this.approvals(task)).map((a) => [a.id, a.state, a.decidedBy, a.input.command]))})`;
  }

  async events(runId: string): Promise<Page['items']> {
    return (await this.api<Page>('GET', `/api/v1/runs/${runId}/events?after=0&limit=1000`)).items;
  }
}

async function openApprovalBoard(t: TestContext, scenario: ModelTurn[]): Promise<ApprovalBoard> {
  const root = tempDir('ab-approvals-claude-');
  const model = await startModelServer('claude', scenario, { quiet: true });
  const home = path.join(root, 'board');
  const workspace = path.join(root, 'workspace');
  fs.mkdirSync(home, { recursive: true });
  fs.mkdirSync(workspace);
  const agent = {
    ...cliAgent('claude', model, root),
    // What a person would set: Claude's default mode asks before a write; the board answers.
    permission_mode: 'default',
    approvals: 'board',
    timeout: '300s',
  };
  const config = {
    agents: { claude: agent },
    defaults: { max_attempts: 1 },
    board: { workdir: workspace },
  };
  // JSON is YAML: the same loader (and its approvals check) as a person's config.yaml.
  fs.writeFileSync(path.join(home, 'config.yaml'), JSON.stringify(config, null, 2));
  const board = new ApprovalBoard(
    home,
    workspace,
    model,
    await freePort(),
    path.join(root, 'serve.log'),
  );
  await board.start();
  t.after(async () => {
    // A failed test must not leave Claude waiting on a request: stop its runs, then the server.
    try {
      const tasks = await board.api<{ items: Array<{ id: string }> }>('GET', '/api/v1/tasks');
      for (const task of tasks.items)
        for (const run of (await board.task(task.id)).runs)
          if (['queued', 'claimed', 'running'].includes(run.state))
            await board.api('POST', `/api/v1/runs/${run.id}/stop`, {}).catch(() => {});
    } catch {}
    await board.server.kill('SIGTERM', 30_000).catch(() => board.server.forceKill());
    await model.close();
  });
  return board;
}

const fileIn = (board: ApprovalBoard, name: string) => path.join(board.workspace, name);
const [FIRST, SECOND] = APPROVAL_FILES;

test('claude, approvals: board: approved through the API, the command runs and the transcript shows the request, the decision and the result', {
  skip,
  timeout: 300_000,
}, async (t) => {
  const board = await openApprovalBoard(t, approvalShell());
  const task = await board.addTask();
  const req = await board.pending(task);
  assert.equal(req.tool, 'Bash');
  assert.equal(req.input.command, `touch ${FIRST}`, JSON.stringify(req.input));
  assert.equal(req.subject.kind, 'command');
  assert.ok(!fs.existsSync(fileIn(board, FIRST)), 'the command ran before it was approved');

  await board.api('POST', `/api/v1/approvals/${req.id}/allow`, {});
  const done = await board.settled(task);
  const run = done.runs[0];
  assert.ok(run);
  t.diagnostic(`task ${task}: ${done.status}, run ${run.id} ${run.state} exit=${run.exitCode}`);
  assert.equal(run.state, 'succeeded', JSON.stringify(run));
  assert.ok(fs.existsSync(fileIn(board, FIRST)), 'the approved command did not run');
  assert.equal(run.denials, 0);

  const events = await board.events(run.id);
  const types = events.map((e) => e.type);
  const call = events.find((e) => e.type === 'tool_call' && e.name === 'Bash');
  const decided = events.find((e) => e.type === 'approval' && e.state === 'allowed');
  const result = events.find((e) => e.type === 'tool_result' && e.id === call?.id);
  assert.ok(call, `no Bash tool_call: ${JSON.stringify(types)}`);
  const approvals = events.filter((e) => e.type === 'approval');
  assert.ok(
    approvals.some((e) => e.state === 'pending' && e.approvalId === req.id),
    `no request in the transcript: ${JSON.stringify(approvals)}`,
  );
  assert.ok(decided, `no decision in the transcript: ${JSON.stringify(approvals)}`);
  assert.equal(result?.status, 'ok', JSON.stringify(result));
  // The engine notes approvals from the rows as it polls: their place among the CLI's lines may vary.
  t.diagnostic(`transcript: ${JSON.stringify(types)}`);
  // The model saw the command's (empty) output, not a refusal, and finished.
  assert.ok(!toolResults('claude', board.model.requests).some((r) => /denied|permission/i.test(r)));
  assert.ok(events.some((e) => e.type === 'result' && e.text === APPROVAL_FINAL));
});

test('claude, approvals: board: denied with a message, the model receives the message and nothing runs', {
  skip,
  timeout: 300_000,
}, async (t) => {
  const board = await openApprovalBoard(t, approvalShell());
  const task = await board.addTask();
  const req = await board.pending(task);
  const message = 'Not in this repo: write the file under tmp/ instead (reviewer R-7)';
  await board.api('POST', `/api/v1/approvals/${req.id}/deny`, { message, by: 'alice' });
  const done = await board.settled(task);
  const run = done.runs[0];
  assert.ok(run);
  assert.ok(!fs.existsSync(fileIn(board, FIRST)), 'a denied command ran');
  const results = toolResults('claude', board.model.requests);
  t.diagnostic(`tool results the model received: ${JSON.stringify(results)}`);
  assert.ok(
    results.some((r) => r.includes(message)),
    'the denial text never reached the model',
  );
  // A denial the person made is still a denial: the run counts it and the card is not Done.
  assert.ok(run.denials >= 1, `denials = ${run.denials}`);
  assert.notEqual(done.status, 'done');
  const after = (await board.approvals(task)).find((a) => a.id === req.id);
  assert.equal(after?.state, 'denied');
  assert.equal(after?.message, message);
});

test('claude, approvals: board: the server is SIGKILLed while the request is pending, restarted, and approving then lets the run finish', {
  skip,
  timeout: 400_000,
}, async (t) => {
  const board = await openApprovalBoard(t, approvalShell());
  const task = await board.addTask();
  const req = await board.pending(task);
  await board.server.kill('SIGKILL');
  // Down for a while: the approval tool's waits fail with ECONNREFUSED and are retried.
  await sleep(3000);
  assert.ok(!fs.existsSync(fileIn(board, FIRST)));
  await board.start();
  const again = await board.pending(task);
  assert.equal(again.id, req.id, 'the request was not the same row after the restart');
  await board.api('POST', `/api/v1/approvals/${req.id}/allow`, {});
  const done = await board.settled(task);
  const run = done.runs[0];
  assert.ok(run);
  t.diagnostic(`after the restart: ${done.status}, run ${run.state} exit=${run.exitCode}`);
  assert.equal(run.state, 'succeeded', JSON.stringify(run));
  assert.ok(fs.existsSync(fileIn(board, FIRST)), 'the approved command did not run');
  // Retries reused the tool use id: one request, not one per attempt.
  assert.equal((await board.approvals(task)).length, 1);
});

test('claude, approvals: board: "always allow" adds a rule, and the next matching call does not ask', {
  skip,
  timeout: 300_000,
}, async (t) => {
  const board = await openApprovalBoard(t, approvalShell(true));
  const task = await board.addTask();
  const req = await board.pending(task);
  t.diagnostic(`suggested rule: ${req.suggestedRule}`);
  // Wider than the suggestion (which names this command's first words): every touch on this task.
  const rule = 'Bash(touch:*)';
  await board.api('POST', `/api/v1/approvals/${req.id}/allow`, { always: true, rule });
  const done = await board.settled(task);
  const run = done.runs[0];
  assert.ok(run);
  assert.equal(run.state, 'succeeded', JSON.stringify(run));
  assert.ok(fs.existsSync(fileIn(board, FIRST)) && fs.existsSync(fileIn(board, SECOND)));
  const all = await board.approvals(task);
  const second = all.find((a) => a.id !== req.id);
  assert.equal(all.length, 2, JSON.stringify(all));
  // Allowed by the rule the moment it was asked: nobody decided it.
  assert.equal(second?.state, 'allowed');
  assert.equal(second?.decidedBy, `rule:${rule}`);
  assert.equal(all.find((a) => a.id === req.id)?.rule, rule);
  assert.equal(second?.input.command, `touch ${SECOND}`);
});

test('approvals: board is refused at config load for a CLI without a headless approval hook, with the reason', () => {
  for (const [kind, hook] of Object.entries(APPROVAL_HOOKS)) {
    const text = `agents:\n  a:\n    kind: ${kind}\n    command: "true"\n    approvals: board\n`;
    if (hook.supported) {
      assert.equal(parseConfigText(text, 'config.yaml').agents.a?.approvals, 'board');
      continue;
    }
    assert.throws(
      () => parseConfigText(text, 'config.yaml'),
      (e: unknown) =>
        e instanceof AgentboardError &&
        e.code === 'invalid_config' &&
        e.message.includes('agents.a.approvals: board is not available') &&
        e.message.includes(hook.reason),
      kind,
    );
  }
  // Claude Code in a mode that never asks would skip every request silently.
  assert.throws(
    () =>
      parseConfigText(
        'agents:\n  a:\n    kind: claude\n    approvals: board\n    permission_mode: bypassPermissions\n',
        'config.yaml',
      ),
    /would never ask/,
  );
  // The default stays the CLI's own permissions, for every kind.
  assert.equal(
    parseConfigText('agents:\n  a:\n    kind: codex\n', 'c').agents.a?.approvals,
    'agent',
  );
});

test('claude-approvals fixture: the exchange recorded from Claude Code 2.1.330 is what the tool reads and answers', async () => {
  const { answerFor } = await import('../../src/mcp/approval-prompt.js');
  const read = (f: string) => JSON.parse(fs.readFileSync(path.join(FIXTURES, f), 'utf8'));
  const call = read('tool-input.json');
  assert.deepEqual(Object.keys(call).sort(), ['input', 'tool_name', 'tool_use_id']);
  const view = (state: ApprovalView['state'], message: string | null) =>
    ({ state, message, decidedBy: 'alice' }) as ApprovalView;
  assert.deepEqual(answerFor(view('allowed', null), call.input), read('answer-allow.json'));
  const deny = read('answer-deny.json');
  assert.deepEqual(answerFor(view('denied', deny.message), call.input), deny);
  const sent = read('model-receives-after-deny.json');
  // Claude appends a system reminder to the text it sends the model.
  assert.ok(sent.content.startsWith(deny.message), sent.content);
  assert.equal(sent.is_error, true);
});

test('approval_prompt: a lost answer is asked again with the same tool use id, and a refusal is a denial', async () => {
  const { decideApproval } = await import('../../src/mcp/approval-prompt.js');
  const ids: Array<string | undefined> = [];
  let waits = 0;
  const pending = { id: 7, state: 'pending' } as ApprovalView;
  const down = () => new AgentboardError('unavailable', 'cannot reach the board (ECONNREFUSED)');
  const board = {
    requestApproval: async (_run: string, req: { toolUseId?: string }) => {
      ids.push(req.toolUseId);
      // The first answer is lost (the server died after storing the row).
      if (ids.length === 1) throw down();
      return pending;
    },
    waitApproval: async () => {
      waits++;
      if (waits === 1) throw new TypeError('fetch failed: other side closed');
      if (waits === 2) return pending;
      return { ...pending, state: 'allowed' } as ApprovalView;
    },
  } as unknown as Parameters<typeof decideApproval>[0];
  const input = { command: 'touch x' };
  const fast = { backoff: { minMs: 1, maxMs: 2 } };
  const answer = await decideApproval(board, 'r1', { tool_name: 'Bash', input }, fast);
  assert.deepEqual(answer, { behavior: 'allow', updatedInput: input });
  assert.equal(ids.length, 2);
  assert.ok(ids[0]?.startsWith('agentboard-'), 'no id made up for a call without one');
  assert.equal(ids[1], ids[0], 'the retry carried another id: a second request');
  assert.equal(waits, 3);

  const refusing = {
    requestApproval: async () => {
      throw new AgentboardError('run_not_active', 'run r1 is succeeded');
    },
  } as unknown as Parameters<typeof decideApproval>[0];
  const denied = await decideApproval(refusing, 'r1', { tool_name: 'Bash', input }, fast);
  assert.equal(denied.behavior, 'deny');
  assert.match(denied.behavior === 'deny' ? denied.message : '', /run_not_active: run r1/);
});

test('claude, approvals: board: the flags name this build’s `agentboard mcp`, carry no secret, and keep the user’s mode', async () => {
  const { claudeAdapter, claudeDiagnoseExit } = await import('../../src/agents/claude.js');
  const { configSchema } = await import('../../src/config/schema.js');
  const agentOf = (extra: Record<string, unknown>) => {
    const agent = configSchema.parse({ agents: { c: { kind: 'claude', ...extra } } }).agents.c;
    assert.ok(agent);
    return agent;
  };
  const ctx = (agent: ReturnType<typeof agentOf>) => ({
    name: 'c',
    agent,
    prompt: 'p',
    resumeSessionId: null,
    token: 'sk-ant-secret-token-1234567890',
    isRoot: false,
    env: {},
    maxCostUsd: null,
    cwd: '/tmp',
    boardHome: '/nowhere/home',
  });
  const inv = claudeAdapter.buildInvocation(
    ctx(agentOf({ approvals: 'board', permission_mode: 'acceptEdits', args: ['--foo'] })),
  );
  assert.ok(!inv.argv.join('\n').includes('sk-ant-secret'), 'the key is in argv');
  assert.ok(inv.argv.includes('--permission-prompt-tool=mcp__agentboard__approval_prompt'));
  assert.deepEqual(inv.argv.slice(inv.argv.indexOf('--permission-mode'), -3), [
    '--permission-mode',
    'acceptEdits',
  ]);
  assert.equal(inv.argv.at(-1), '--foo', 'the user’s args come last');
  const flag = inv.argv.find((a) => a.startsWith('--mcp-config='));
  const server = JSON.parse(flag?.slice('--mcp-config='.length) ?? '{}').mcpServers?.agentboard;
  assert.equal(server.command, process.execPath);
  assert.equal(server.args.at(-1), 'mcp');
  assert.ok(
    fs.existsSync(server.args[0]) && server.args[0].endsWith('cli/main.js'),
    server.args[0],
  );
  assert.ok(server.timeout >= 2 ** 31 - 1, 'Claude would cut a person’s wait');
  // approvals: agent adds nothing.
  const plain = claudeAdapter.buildInvocation(ctx(agentOf({})));
  assert.ok(!plain.argv.some((a) => a.startsWith('--mcp-config') || a.includes('prompt-tool')));
  // A bypass built without config load (the schema alone) is refused at the start too.
  assert.throws(
    () =>
      claudeAdapter.buildInvocation(
        ctx(agentOf({ approvals: 'board', permission_mode: 'bypassPermissions' })),
      ),
    /would never ask/,
  );
  const diagnosis = claudeDiagnoseExit({
    code: 1,
    stderrTail:
      'Error: MCP tool mcp__agentboard__approval_prompt (passed via --permission-prompt-tool) not found. Available MCP tools: none\n',
  });
  assert.equal(diagnosis?.category, 'config');
});
