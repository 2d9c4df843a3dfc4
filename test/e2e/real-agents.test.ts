import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { AgentEvent } from '../../src/agents/events.js';
import { type App, openApp } from '../../src/app/context.js';
import { startRun } from '../../src/app/runs.js';
import { addTask } from '../../src/app/tasks.js';
import { configSchema } from '../../src/config/schema.js';
import { type Engine, startEngine } from '../../src/engine/engine.js';
import { readRunEvents } from '../../src/store/run-events.js';
import { getRun, listRuns, type RunRow } from '../../src/store/runs.js';
import { getTask } from '../../src/store/tasks.js';
import {
  type CliKind,
  cliEnv,
  type Scenario,
  startModelServer,
  toolResults,
} from '../support/model-servers/index.js';
import { AUTH_ERROR, AUTH_MESSAGE, SHELL_SUCCESS } from '../support/model-servers/scenarios.js';

/**
 * The real agent CLIs from npm, run by agentboard's engine through its
 * adapters, against scripted model servers on 127.0.0.1.
 */
const quiet = { info: () => {}, warn: () => {} };
const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of cleanups.reverse()) await c().catch(() => {});
});

const SUCCESS = SHELL_SUCCESS;

const PERMISSION: Record<CliKind, string> = {
  claude: 'bypassPermissions',
  codex: 'workspace-write',
  gemini: 'yolo',
};
const MODEL: Record<CliKind, string> = {
  claude: 'claude-sonnet-4-5',
  codex: 'gpt-5.5',
  gemini: 'gemini-2.5-flash',
};

interface Outcome {
  app: App;
  id: number;
  run: RunRow;
  events: AgentEvent[];
  workspace: string;
  status: string;
  requests: number;
  toolResults: string[];
}

async function runTask(kind: CliKind, scenario: Scenario): Promise<Outcome> {
  const server = await startModelServer(kind, scenario, { quiet: true });
  cleanups.push(() => server.close());
  const root = fs.mkdtempSync(path.join(os.tmpdir(), `ab-e2e-${kind}-`));
  cleanups.push(async () => fs.rmSync(root, { recursive: true, force: true }));
  const workspace = path.join(root, 'workspace');
  fs.mkdirSync(workspace);
  const setup = cliEnv(kind, server.url, path.join(root, 'cli-home'), {
    maxRetries: 0,
    model: MODEL[kind],
  });
  // The key reaches the CLI through agentboard's `token`, not through the inherited environment.
  const env = Object.fromEntries(
    Object.entries(setup.env).filter(
      ([k]) => !['ANTHROPIC_API_KEY', 'OPENAI_API_KEY', 'GEMINI_API_KEY'].includes(k),
    ),
  );
  const config = configSchema.parse({
    agents: {
      [kind]: {
        kind,
        command: setup.bin,
        model: MODEL[kind],
        permission_mode: PERMISSION[kind],
        env,
        token: 'sk-scripted-test',
        max_concurrency: 1,
        timeout: '120s',
      },
    },
    defaults: { max_attempts: 1 },
    board: { workdir: workspace },
  });
  const app = await openApp({ config, env: { AGENTBOARD_HOME: path.join(root, 'board') } });
  const engine: Engine = await startEngine(app, { log: quiet, monitorIntervalMs: 200 });
  cleanups.push(async () => {
    await engine.stop();
    await app.store.close();
  });
  const task = await addTask(app, {
    title: 'Create out.txt',
    body: 'Create out.txt containing hello, then say DONE. Literal text: $(touch pwned) `id`',
    agent: kind,
  });
  const id = Number(task.id.slice(2));
  const deadline = Date.now() + 120_000;
  let status = 'in_progress';
  while (status === 'in_progress' && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    status = (await getTask(app.store.db, id))?.status ?? 'missing';
  }
  const [run] = await listRuns(app.store.db, { taskId: id });
  assert.ok(run, 'no run');
  const events = (await readRunEvents(app.store.db, run.id, { afterSeq: 0, limit: 10_000 })).map(
    (e) => e.event,
  );
  return {
    app,
    id,
    run,
    events,
    workspace,
    status,
    requests: server.requests.length,
    toolResults: toolResults(kind, server.requests),
  };
}

async function waitForRunEnd(app: App, runId: string): Promise<RunRow> {
  const deadline = Date.now() + 120_000;
  for (;;) {
    const r = await getRun(app.store.db, runId);
    if (r && !['queued', 'claimed', 'running'].includes(r.state)) return r;
    if (Date.now() > deadline) throw new Error(`run ${runId} still ${r?.state}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

for (const kind of ['claude', 'codex', 'gemini'] as const) {
  test(`${kind}: a real run writes the file, its transcript shows the tool call and result, usage and cost are recorded, the card reaches Review`, async () => {
    const o = await runTask(kind, SUCCESS);
    assert.equal(o.run.state, 'succeeded', `run ${o.run.state}: ${o.run.error_summary}`);
    assert.equal(o.status, 'review');
    assert.equal(fs.readFileSync(path.join(o.workspace, 'out.txt'), 'utf8'), 'hello\n');
    assert.ok(!fs.existsSync(path.join(o.workspace, 'pwned')), 'task text was executed');
    const call = o.events.find((e) => e.type === 'tool_call');
    assert.ok(
      call?.type === 'tool_call' && call.kind === 'command',
      `no command tool call in ${JSON.stringify(o.events.map((e) => e.type))}`,
    );
    assert.match(JSON.stringify(call.input), /echo hello > out\.txt/);
    const result = o.events.find((e) => e.type === 'tool_result');
    assert.ok(
      result?.type === 'tool_result' && result.status === 'ok' && /hello/.test(result.output),
    );
    assert.ok(
      o.toolResults.some((t) => /hello/.test(t)),
      'the CLI did not send the tool result back',
    );
    assert.ok(o.run.tokens_in > 0 && o.run.tokens_out > 0, 'no usage');
    assert.ok(o.run.cost_usd > 0, 'no cost');
    assert.equal(o.run.cost_source, kind === 'claude' ? 'reported' : 'estimated');
    assert.ok(o.run.session_id, 'no session id');
    assert.ok(o.events.some((e) => e.type === 'result' && e.ok));
  });

  test(`${kind}: when the model API rejects the key, the run fails with the API's message in the error summary`, async () => {
    const o = await runTask(kind, AUTH_ERROR[kind]);
    assert.equal(o.run.state, 'failed');
    assert.equal(o.status, 'blocked');
    assert.ok(o.requests > 0, 'the CLI never reached the scripted server');
    const summary = o.run.error_summary ?? '';
    const expected = new RegExp(AUTH_MESSAGE);
    assert.match(summary, expected, summary);
  });
}

for (const kind of ['claude', 'codex', 'gemini'] as const) {
  test(`${kind}: a follow-up prompt resumes the agent's own session`, async () => {
    const o = await runTask(kind, SUCCESS);
    assert.equal(o.run.state, 'succeeded', `run ${o.run.state}: ${o.run.error_summary}`);
    const session = o.run.session_id;
    assert.ok(session, 'no session id to resume');
    const follow = await startRun(o.app, o.id, {
      prompt: 'What did you just do? Answer in one line.',
    });
    const ended = await waitForRunEnd(o.app, follow.id);
    assert.equal(ended.resume_session_id, session);
    assert.equal(ended.state, 'succeeded', `follow-up ${ended.state}: ${ended.error_summary}`);
    assert.equal(ended.session_id, session, 'the follow-up ran in another session');
    assert.equal(ended.previous_run_id, o.run.id);
    const events = (
      await readRunEvents(o.app.store.db, ended.id, { afterSeq: 0, limit: 1000 })
    ).map((e) => e.event);
    assert.ok(events.some((e) => e.type === 'result' && e.ok));
  });
}
