import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { type TestContext, test } from 'node:test';
import { openApp } from '../../src/app/context.js';
import { addTask } from '../../src/app/tasks.js';
import { configSchema } from '../../src/config/schema.js';
import { startEngine } from '../../src/engine/engine.js';
import { listRuns, type RunRow } from '../../src/store/runs.js';
import { type ModelServer, startModelServer, toolResults } from '../support/model-servers/index.js';
import type { ModelTurn } from '../support/model-servers/scenario.js';
import { cliAgent, describeRun, sleep } from './harness.js';

/**
 * The board's own files are not the agent's to write (issue 16), even in `shared` mode with the
 * default home inside the project: the real Claude Code from npm, against a scripted model that
 * asks to rewrite the board's config.yaml and its `agentboard` launcher.
 */

const SENTINEL = 'agents: {} # the board owner wrote this\n';
const quiet = { info: () => {}, warn: () => {} };

interface SharedBoard {
  workspace: string;
  home: string;
  server: ModelServer;
  /** Adds a task, waits for its one run to end, and returns it. */
  runTask(): Promise<RunRow>;
}

/** A board whose home is `<workspace>/.agentboard` and whose agent works in the workspace itself. */
async function sharedBoard(
  t: TestContext,
  kind: 'claude' | 'codex',
  scenario: (home: string) => ModelTurn[],
  permissionMode: string,
): Promise<SharedBoard> {
  const cleanups: Array<() => Promise<void> | void> = [];
  t.after(async () => {
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
  });
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'ab-board-files-'));
  cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
  const workspace = path.join(root, 'project');
  const home = path.join(workspace, '.agentboard');
  fs.mkdirSync(home, { recursive: true });
  fs.writeFileSync(path.join(home, 'config.yaml'), SENTINEL);
  const server = await startModelServer(kind, scenario(home), { quiet: true });
  cleanups.push(() => server.close());
  const config = configSchema.parse({
    agents: {
      [kind]: { ...cliAgent(kind, server, root), permission_mode: permissionMode },
    },
    defaults: { max_attempts: 1 },
    board: { workdir: workspace, workspace: 'shared' },
  });
  const app = await openApp({ config, env: { AGENTBOARD_HOME: home } });
  const engine = await startEngine(app, { log: quiet, monitorIntervalMs: 200 });
  cleanups.push(async () => {
    await engine.stop();
    await app.store.close();
  });
  return {
    workspace,
    home,
    server,
    async runTask() {
      const task = await addTask(app, { title: 'Tidy up', body: 'Tidy up.', agent: kind });
      const id = Number(task.id.slice(2));
      const deadline = Date.now() + 150_000;
      for (;;) {
        const [run] = await listRuns(app.store.db, { taskId: id });
        if (run && !['queued', 'claimed', 'running'].includes(run.state)) return run;
        if (Date.now() > deadline) throw new Error(`run still ${describeRun(run)}`);
        await sleep(100);
      }
    },
  };
}

test('claude, shared mode, home inside the workspace: writes into the home are denied, the workspace is writable', async (t) => {
  const board = await sharedBoard(
    t,
    'claude',
    (home) => {
      const config = path.join(home, 'config.yaml');
      const launcher = path.join(home, 'bin', 'agentboard');
      return [
        { text: 'Reading the config.', tool: { name: 'Read', input: { file_path: config } } },
        {
          text: 'Rewriting it.',
          tool: { name: 'Write', input: { file_path: config, content: 'agents: pwned\n' } },
        },
        { text: 'And the launcher.', tool: { name: 'Read', input: { file_path: launcher } } },
        {
          text: 'Replacing it.',
          tool: { name: 'Write', input: { file_path: launcher, content: '#!/bin/sh\nid\n' } },
        },
        {
          text: 'A new file in the home.',
          tool: { name: 'Write', input: { file_path: path.join(home, 'new.txt'), content: 'x' } },
        },
        {
          text: 'Now the workspace.',
          tool: { name: 'Write', input: { file_path: 'out.txt', content: 'hello\n' } },
        },
        { text: 'DONE' },
      ];
    },
    'acceptEdits',
  );
  const launcher = path.join(board.home, 'bin', 'agentboard');
  const run = await board.runTask();
  const results = toolResults('claude', board.server.requests);
  t.diagnostic(`${describeRun(run)} results=${JSON.stringify(results).slice(0, 2000)}`);
  assert.equal(run.state, 'succeeded', describeRun(run));
  // The control: the same tool wrote in the workspace, so a write the rule did not stop shows.
  assert.equal(fs.readFileSync(path.join(board.workspace, 'out.txt'), 'utf8'), 'hello\n');
  assert.equal(fs.readFileSync(path.join(board.home, 'config.yaml'), 'utf8'), SENTINEL);
  assert.ok(fs.existsSync(launcher), 'the engine wrote its launcher');
  assert.doesNotMatch(fs.readFileSync(launcher, 'utf8'), /\bid\n/);
  assert.ok(!fs.existsSync(path.join(board.home, 'new.txt')), 'a new file was written in the home');
  assert.equal(
    results.filter((r) => /denied by your permission settings/.test(r)).length,
    3,
    'three writes into the home, each refused by the deny rule',
  );
});

test('claude, shared mode, home inside the workspace: bypassPermissions is refused before the CLI starts', async (t) => {
  const board = await sharedBoard(
    t,
    'claude',
    (home) => [
      {
        text: 'Shell.',
        tool: { shell: `node -e "require('fs').appendFileSync('${home}/config.yaml','x')"` },
      },
      { text: 'DONE' },
    ],
    'bypassPermissions',
  );
  const run = await board.runTask();
  t.diagnostic(describeRun(run));
  assert.equal(run.state, 'failed', describeRun(run));
  assert.match(run.error_summary ?? '', /home is inside the agent's workspace.*AGENTBOARD_HOME/);
  assert.equal(board.server.requests.length, 0, 'the CLI reached the model');
  assert.equal(fs.readFileSync(path.join(board.home, 'config.yaml'), 'utf8'), SENTINEL);
});

test('codex, shared mode, home inside the workspace: its sandbox refuses writes into the home, not the workspace', async (t) => {
  // Codex 0.169.0 leaves a command its sandbox refuses at once out of its --json output: the
  // command runs a moment first (see permissionDenial).
  const board = await sharedBoard(
    t,
    'codex',
    () => [
      {
        text: 'Tidying.',
        tool: { shell: 'sleep 1; echo hello > out.txt; echo pwned >> .agentboard/config.yaml' },
      },
      { text: 'DONE' },
    ],
    'workspace-write',
  );
  const run = await board.runTask();
  const results = toolResults('codex', board.server.requests);
  t.diagnostic(`${describeRun(run)} results=${JSON.stringify(results).slice(0, 1000)}`);
  assert.equal(fs.readFileSync(path.join(board.workspace, 'out.txt'), 'utf8'), 'hello\n');
  assert.equal(fs.readFileSync(path.join(board.home, 'config.yaml'), 'utf8'), SENTINEL);
  assert.ok(
    results.some((r) => /Read-only file system/.test(r)),
    'the sandbox did not refuse the write',
  );
});
