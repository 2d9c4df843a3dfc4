/**
 * `agentboard mcp` driven by the MCP SDK's own client over stdio, against a
 * board whose engine (a real `agentboard serve`) carries the runs out.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { boardEnv, CLI_MAIN, ServeProcess } from '../support/server.js';
import { tempDir } from '../support/tmp.js';

const TOOLS = [
  'approval_prompt',
  'approve',
  'bus_post',
  'bus_read',
  'comment',
  'create_task',
  'deny',
  'get_run_transcript',
  'get_task',
  'list_approvals',
  'list_tasks',
  'update_task',
  'wait_for_task',
];

interface ToolResult {
  isError?: boolean;
  content: { type: string; text: string }[];
}

describe('agentboard mcp', () => {
  test('tasks, subtasks, comments, the bus, transcripts and waiting, through the SDK client', async (t) => {
    const root = tempDir('agentboard-mcp-');
    const home = path.join(root, '.agentboard');
    fs.mkdirSync(home, { recursive: true });
    fs.writeFileSync(
      path.join(home, 'config.yaml'),
      [
        'agents:',
        '  bot:',
        '    kind: command',
        '    command: /bin/sh',
        `    args: ['-c', 'echo "working on $AGENTBOARD_TASK_ID"; cat']`,
        'board:',
        '  on_success: done',
        '',
      ].join('\n'),
    );
    const serve = new ServeProcess(home);
    t.after(() => serve.kill('SIGKILL'));
    await serve.waitReady();

    const client = new Client({ name: 'agentboard-test', version: '1.0.0' });
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: [CLI_MAIN, 'mcp'],
      env: boardEnv(home, { AGENTBOARD_AGENT: 'planner' }) as Record<string, string>,
      stderr: 'pipe',
    });
    await client.connect(transport);
    t.after(() => client.close());

    const call = async (name: string, args: Record<string, unknown>) =>
      (await client.callTool({ name, arguments: args })) as ToolResult;
    const ok = async (name: string, args: Record<string, unknown>) => {
      const r = await call(name, args);
      assert.ok(!r.isError, `${name} failed: ${r.content[0]?.text}`);
      return JSON.parse(r.content[0]?.text ?? 'null');
    };
    const refused = async (name: string, args: Record<string, unknown>) => {
      const r = await call(name, args);
      assert.equal(r.isError, true, `${name} should fail: ${r.content[0]?.text}`);
      return r.content[0]?.text ?? '';
    };

    const { tools } = await client.listTools();
    assert.deepEqual(tools.map((x) => x.name).sort(), TOOLS);
    const create = tools.find((x) => x.name === 'create_task');
    assert.deepEqual(create?.inputSchema.required, ['title']);

    const parent = await ok('create_task', { title: 'Ship it', status: 'backlog' });
    assert.equal(parent.id, 'T-1');
    const child = await ok('create_task', { title: 'Part', parent: 'T-1', agent: 'bot' });
    assert.deepEqual([child.id, child.parent], ['T-2', 'T-1']);
    const waited = await ok('wait_for_task', { ids: ['T-2'], timeoutSeconds: 60 });
    assert.equal(waited.outcome, 'done');
    assert.deepEqual(
      waited.tasks.map((x: { id: string; status: string }) => [x.id, x.status]),
      [['T-2', 'done']],
    );

    const transcript = await ok('get_run_transcript', { run: 'T-2' });
    assert.equal(transcript.task, 'T-2');
    assert.equal(transcript.state, 'succeeded');
    // The command adapter turns stdout into message events (lines may be batched).
    const said = (events: { type: string; text?: string }[]) =>
      events
        .filter((e) => e.type === 'message')
        .map((e) => e.text)
        .join('\n');
    assert.equal(said(transcript.events), 'working on T-2\n# T-2: Part');
    assert.ok(transcript.events.every((e: { seq: number }, i: number) => e.seq === i + 1));

    const listed = await ok('list_tasks', { parent: 'T-1' });
    assert.deepEqual(
      listed.map((x: { id: string }) => x.id),
      ['T-2'],
    );
    const got = await ok('get_task', { id: 't-1' });
    assert.deepEqual(got.children, [{ id: 'T-2', title: 'Part', status: 'done' }]);

    const updated = await ok('update_task', {
      id: 'T-1',
      title: 'Ship it now',
      priority: 'high',
      status: 'done',
    });
    assert.deepEqual(
      [updated.title, updated.priority, updated.status],
      ['Ship it now', 'high', 'done'],
    );

    const comment = await ok('comment', { id: 'T-1', body: '@bot write the release notes' });
    assert.equal(comment.author, 'planner', 'the author comes from the environment contract');
    assert.equal(comment.mentionRun.agent, 'bot');
    const again = await ok('wait_for_task', { ids: ['T-1'], timeoutSeconds: 60 });
    assert.equal(again.outcome, 'done');
    const notes = await ok('get_run_transcript', { run: comment.mentionRun.id });
    assert.equal(said(notes.events), 'working on T-1\n@bot write the release notes');

    const posted = await ok('bus_post', { type: 'DECISION', body: 'release Friday', task: 'T-1' });
    assert.deepEqual([posted.taskId, posted.type, posted.author], ['T-1', 'DECISION', 'planner']);
    const read = await ok('bus_read', { task: 'T-1' });
    assert.deepEqual(
      read.items.map((m: { type: string }) => m.type),
      ['RUN_START', 'RUN_STOP', 'DECISION'],
    );
    const tail = await ok('bus_read', { tail: 1 });
    assert.deepEqual(
      tail.items.map((m: { body: string }) => m.body),
      ['release Friday'],
    );

    await ok('create_task', { title: 'Later', status: 'backlog' });
    const timedOut = await ok('wait_for_task', { ids: ['T-3'], timeoutSeconds: 0.2 });
    assert.equal(timedOut.outcome, 'timeout');

    // Bad input: the SDK's schema check, and the board's own refusals with their codes.
    assert.match(await refused('create_task', { title: '' }), /Input validation error/);
    assert.match(await refused('get_task', { id: 'T-0x' }), /Input validation error/);
    assert.match(
      await refused('bus_post', { type: 'GOSSIP', body: 'x' }),
      /Input validation error/,
    );
    // The engine's own types are refused, in the words the CLI and the API use.
    for (const type of ['RUN_START', 'RUN_STOP']) {
      assert.match(
        await refused('bus_post', { type, body: 'forged', task: 'T-1' }),
        new RegExp(`${type} is reserved: the board posts it itself`),
      );
    }
    assert.match(
      await refused('get_task', { id: 'T-99' }),
      /^not_found: task T-99 not found: list tasks with `agentboard task list`$/,
    );
    await ok('update_task', { id: 'T-3', addDependsOn: ['T-1'] });
    assert.equal(
      await refused('update_task', { id: 'T-1', addDependsOn: ['T-3'] }),
      'dependency_cycle: that dependency would make a cycle: T-1 -> T-3 -> T-1',
    );
    assert.match(
      await refused('update_task', { id: 'T-2', status: 'in_progress' }),
      /^illegal_transition: T-2 is done: cannot move to in_progress/,
    );
  });
});
