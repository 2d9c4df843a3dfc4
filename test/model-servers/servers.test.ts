/** The scripted model servers' routing, spoken to directly over HTTP (no CLI). */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type ModelServer,
  startAnthropicServer,
  startGeminiServer,
  startResponsesServer,
} from '../support/model-servers/index.js';

const SCRIPT = [{ text: 'first', tool: { shell: 'echo hi' } }, { text: 'second' }];

async function post(server: ModelServer, path: string, body: unknown) {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return {
    status: res.status,
    type: res.headers.get('content-type') ?? '',
    text: await res.text(),
  };
}

/** The `data:` payloads of an SSE body. */
function sseData(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)) as Record<string, unknown>);
}

test('anthropic: turns follow the history; side calls and token counts leave the script alone', async () => {
  const s = await startAnthropicServer(SCRIPT);
  try {
    const tools = [{ name: 'Bash' }];
    const user = { role: 'user', content: 'go' };
    const side = await post(s, '/v1/messages?beta=true', {
      model: 'haiku',
      messages: [user],
      max_tokens: 5,
    });
    assert.match(side.text, /Scripted side answer/);
    const count = await post(s, '/v1/messages/count_tokens', { messages: [user] });
    assert.ok(JSON.parse(count.text).input_tokens > 0);

    const first = await post(s, '/v1/messages?beta=true', {
      stream: true,
      tools,
      messages: [user],
    });
    assert.match(first.type, /text\/event-stream/);
    const events = sseData(first.text);
    assert.equal(events[0]?.type, 'message_start');
    assert.equal(events.at(-1)?.type, 'message_stop');
    const toolStart = events.find(
      (e) => (e.content_block as { type?: string } | undefined)?.type === 'tool_use',
    );
    assert.equal((toolStart?.content_block as { name?: string } | undefined)?.name, 'Bash');
    const stop = events.find((e) => e.type === 'message_delta') as {
      delta: { stop_reason: string };
    };
    assert.equal(stop.delta.stop_reason, 'tool_use');

    const history = [user, { role: 'assistant', content: 'x' }, { role: 'user', content: 'r' }];
    const second = await post(s, '/v1/messages', { tools, messages: history });
    const msg = JSON.parse(second.text) as {
      content: Array<{ text?: string }>;
      stop_reason: string;
    };
    assert.equal(msg.content[0]?.text, 'second');
    assert.equal(msg.stop_reason, 'end_turn');

    assert.deepEqual(
      s.requests.map((r) => [r.kind, r.turn]),
      [
        ['side', undefined],
        ['other', undefined],
        ['main', 0],
        ['main', 1],
      ],
    );
  } finally {
    await s.close();
  }
});

test('errors: `times` failures, then the script; unknown paths are 404 and recorded', async () => {
  const s = await startResponsesServer(
    { status: 500, times: 1, afterwards: SCRIPT },
    { quiet: true },
  );
  try {
    const body = { stream: true, tools: [{ type: 'function', name: 'exec_command' }], input: [] };
    assert.equal((await post(s, '/v1/responses', body)).status, 500);
    const ok = await post(s, '/v1/responses', body);
    assert.equal(ok.status, 200);
    const done = sseData(ok.text).filter((e) => e.type === 'response.output_item.done');
    const call = done
      .map((e) => e.item as Record<string, string>)
      .find((i) => i.type === 'function_call');
    assert.equal(call?.name, 'exec_command');
    assert.deepEqual(JSON.parse(call?.arguments ?? ''), { cmd: 'echo hi' });
    assert.equal((await post(s, '/v1/nope', {})).status, 404);
    assert.deepEqual(
      s.requests.map((r) => r.kind),
      ['error', 'main', 'unknown'],
    );
  } finally {
    await s.close();
  }
});

test('responses: the shell call matches the tool the request offers', async () => {
  const s = await startResponsesServer(SCRIPT);
  try {
    const call = async (tools: unknown[]) => {
      const r = await post(s, '/v1/responses', { stream: false, tools, input: [] });
      return (JSON.parse(r.text) as { output: Array<Record<string, unknown>> }).output.at(-1);
    };
    const sc = await call([{ type: 'function', name: 'shell_command' }]);
    assert.deepEqual(JSON.parse(String(sc?.arguments)), { command: 'echo hi' });
    const sh = await call([{ type: 'function', name: 'shell' }]);
    assert.deepEqual(JSON.parse(String(sh?.arguments)), { command: ['bash', '-lc', 'echo hi'] });
    assert.equal((await call([{ type: 'local_shell' }]))?.type, 'local_shell_call');
  } finally {
    await s.close();
  }
});

test('gemini: JSON side calls get a schema-shaped answer; tool turns stream a functionCall', async () => {
  const s = await startGeminiServer(SCRIPT);
  try {
    const schema = {
      type: 'OBJECT',
      properties: {
        complexity_reasoning: { type: 'STRING' },
        complexity_score: { type: 'INTEGER' },
      },
    };
    const side = await post(s, '/v1beta/models/flash-lite:generateContent', {
      contents: [{ role: 'user', parts: [{ text: 'classify' }] }],
      generationConfig: { responseMimeType: 'application/json', responseJsonSchema: schema },
    });
    const sideText = JSON.parse(side.text).candidates[0].content.parts[0].text as string;
    assert.equal(typeof JSON.parse(sideText).complexity_score, 'number');

    const main = await post(s, '/v1beta/models/pro:streamGenerateContent?alt=sse', {
      contents: [{ role: 'user', parts: [{ text: 'go' }] }],
      tools: [{ functionDeclarations: [{ name: 'run_shell_command' }] }],
    });
    const chunks = sseData(main.text) as Array<{
      candidates: Array<{
        content: { parts: Array<Record<string, unknown>> };
        finishReason?: string;
      }>;
      usageMetadata?: unknown;
    }>;
    const parts = chunks.flatMap((c) => c.candidates[0]?.content.parts ?? []);
    assert.equal(parts.map((p) => p.text ?? '').join(''), 'first');
    assert.deepEqual(parts.at(-1)?.functionCall, {
      name: 'run_shell_command',
      args: { command: 'echo hi', description: 'Run a command' },
    });
    assert.equal(chunks.at(-1)?.candidates[0]?.finishReason, 'STOP');
    assert.ok(chunks.at(-1)?.usageMetadata);
    assert.deepEqual(
      s.requests.map((r) => [r.kind, r.turn]),
      [
        ['side', undefined],
        ['main', 0],
      ],
    );
  } finally {
    await s.close();
  }
});
