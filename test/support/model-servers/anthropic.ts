/**
 * A scripted Anthropic Messages API server for Claude Code. Not a test file.
 *
 * `POST /v1/messages` (Claude Code adds `?beta=true`): streaming (SSE) and non-streaming.
 * Requests that carry tools are turns of the scripted conversation; requests without tools are
 * side calls (titles, summaries…) and get a short canned answer without consuming the script.
 * `POST /v1/messages/count_tokens` is answered with an estimate, `HEAD /api/hello` (Claude Code's
 * connectivity probe) with 200; other paths get a 404 and are logged.
 */
import {
  type CapturedRequest,
  cutCounter,
  type ModelServer,
  newId,
  type Routed,
  type ServerOptions,
  sendCutJson,
  sendError,
  sendJson,
  sendSse,
  startServer,
} from './http.js';
import {
  chunks,
  countModelTurns,
  isShell,
  type ModelTurn,
  type Scenario,
  tokens,
  turnAt,
} from './scenario.js';

export const ANTHROPIC_SHELL_TOOL = 'Bash';
export const SIDE_CALL_TEXT = 'Scripted side answer';

interface MessagesBody {
  model?: string;
  stream?: boolean;
  tools?: Array<{ name?: string }>;
  messages?: Array<{ role?: string; content?: unknown }>;
}

type Block =
  | { type: 'thinking'; thinking: string; signature: string }
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: Record<string, unknown> };

function blocksFor(turn: ModelTurn, turnIndex: number): Block[] {
  const blocks: Block[] = [];
  if (turn.thinking !== undefined)
    blocks.push({
      type: 'thinking',
      thinking: turn.thinking,
      signature: `scripted-signature-${turnIndex}`,
    });
  if (turn.text !== undefined) blocks.push({ type: 'text', text: turn.text });
  if (turn.tool) {
    const t = turn.tool;
    blocks.push({
      type: 'tool_use',
      id: newId(`toolu_t${turnIndex}_`),
      name: isShell(t) ? ANTHROPIC_SHELL_TOOL : t.name,
      input: isShell(t)
        ? { command: t.shell, description: t.description ?? 'Run a command' }
        : t.input,
    });
  }
  if (blocks.length === 0) blocks.push({ type: 'text', text: '' });
  return blocks;
}

function usage(body: unknown, blocks: Block[]) {
  const out = blocks.reduce(
    (n, b) =>
      n +
      tokens(
        b.type === 'text' ? b.text : b.type === 'thinking' ? b.thinking : JSON.stringify(b.input),
      ),
    0,
  );
  return {
    input_tokens: tokens(JSON.stringify(body ?? '')),
    output_tokens: out,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  };
}

function streamEvents(model: string, body: unknown, blocks: Block[]) {
  const u = usage(body, blocks);
  const events: Array<{ event: string; data: unknown }> = [];
  const ev = (type: string, data: Record<string, unknown>) =>
    events.push({ event: type, data: { type, ...data } });
  ev('message_start', {
    message: {
      id: newId('msg_'),
      type: 'message',
      role: 'assistant',
      model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { ...u, output_tokens: 1 },
    },
  });
  ev('ping', {});
  blocks.forEach((b, index) => {
    if (b.type === 'thinking') {
      ev('content_block_start', {
        index,
        content_block: { type: 'thinking', thinking: '', signature: '' },
      });
      for (const c of chunks(b.thinking))
        ev('content_block_delta', { index, delta: { type: 'thinking_delta', thinking: c } });
      ev('content_block_delta', {
        index,
        delta: { type: 'signature_delta', signature: b.signature },
      });
    } else if (b.type === 'text') {
      ev('content_block_start', { index, content_block: { type: 'text', text: '' } });
      for (const c of chunks(b.text))
        ev('content_block_delta', { index, delta: { type: 'text_delta', text: c } });
    } else {
      ev('content_block_start', {
        index,
        content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} },
      });
      for (const c of chunks(JSON.stringify(b.input)))
        ev('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: c } });
    }
    ev('content_block_stop', { index });
  });
  const stop = blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn';
  ev('message_delta', {
    delta: { stop_reason: stop, stop_sequence: null },
    usage: { output_tokens: u.output_tokens },
  });
  ev('message_stop', {});
  return events;
}

function message(model: string, body: unknown, blocks: Block[]) {
  return {
    id: newId('msg_'),
    type: 'message',
    role: 'assistant',
    model,
    content: blocks,
    stop_reason: blocks.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn',
    stop_sequence: null,
    usage: usage(body, blocks),
  };
}

/** The scripted turn a Messages request is at: the number of assistant turns in its history. */
export function anthropicTurnIndex(body: MessagesBody): number {
  return countModelTurns(body.messages ?? [], (m) => m.role === 'assistant');
}

const AUTH_ERROR = {
  type: 'error',
  error: { type: 'authentication_error', message: 'invalid x-api-key' },
};

function errorBody(status: number): unknown {
  if (status === 401) return AUTH_ERROR;
  const type =
    status === 429
      ? 'rate_limit_error'
      : status === 529
        ? 'overloaded_error'
        : status >= 500
          ? 'api_error'
          : 'invalid_request_error';
  return { type: 'error', error: { type, message: `Scripted error ${status}` } };
}

export function startAnthropicServer(
  scenario: Scenario,
  opts: ServerOptions = {},
): Promise<ModelServer> {
  const shouldCut = cutCounter();
  return startServer(
    scenario,
    (req, error): Routed => {
      if (error) {
        return {
          kind: 'error',
          status: error.status,
          send: (res) => sendError(res, error, errorBody(error.status)),
        };
      }
      if (req.method === 'POST' && req.path === '/v1/messages/count_tokens') {
        return {
          kind: 'other',
          send: (res) =>
            sendJson(res, 200, { input_tokens: tokens(JSON.stringify(req.body ?? '')) }),
        };
      }
      if (req.method === 'POST' && req.path === '/v1/messages') {
        const body = (req.body ?? {}) as MessagesBody;
        const model = body.model ?? 'claude-scripted';
        const main = Array.isArray(body.tools) && body.tools.length > 0;
        const turn = main ? anthropicTurnIndex(body) : undefined;
        const scripted = main ? turnAt(scenario, turn ?? 0) : undefined;
        const blocks = scripted
          ? blocksFor(scripted, turn ?? 0)
          : [{ type: 'text' as const, text: SIDE_CALL_TEXT }];
        const cut = turn !== undefined && shouldCut(turn, scripted?.cut);
        const u = usage(req.body, blocks);
        const headers = { 'request-id': newId('req_') };
        return {
          kind: main ? 'main' : 'side',
          ...(turn === undefined ? {} : { turn }),
          ...(cut
            ? { cut }
            : {
                usage: {
                  input: u.input_tokens,
                  output: u.output_tokens,
                  cacheRead: u.cache_read_input_tokens,
                },
              }),
          send: (res) => {
            if (!body.stream) {
              const m = message(model, req.body, blocks);
              if (cut) sendCutJson(res, m);
              else sendJson(res, 200, m, headers);
              return;
            }
            const events = streamEvents(model, req.body, blocks);
            const firstDelta = events.findIndex((e) => e.event === 'content_block_delta');
            sendSse(res, events, headers, cut ? firstDelta : undefined);
          },
        };
      }
      // Connectivity probe, sent when CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC is not set.
      if ((req.method === 'HEAD' || req.method === 'GET') && req.path === '/api/hello') {
        return { kind: 'other', send: (res) => sendJson(res, 200, {}) };
      }
      if (req.method === 'GET' && req.path === '/v1/models') {
        return { kind: 'other', send: (res) => sendJson(res, 200, { data: [], has_more: false }) };
      }
      return {
        kind: 'unknown',
        status: 404,
        send: (res) =>
          sendJson(res, 404, {
            type: 'error',
            error: { type: 'not_found_error', message: 'Not found' },
          }),
      };
    },
    opts,
  );
}

/** The `tool_result` blocks Claude Code sent back, with their text content. */
export function anthropicToolResults(
  requests: CapturedRequest[],
): Array<{ tool_use_id: string; content: string }> {
  const out: Array<{ tool_use_id: string; content: string }> = [];
  const seen = new Set<string>();
  for (const r of requests) {
    if (r.kind !== 'main') continue;
    for (const m of (r.body as MessagesBody).messages ?? []) {
      if (m.role !== 'user' || !Array.isArray(m.content)) continue;
      for (const b of m.content as Array<Record<string, unknown>>) {
        if (
          b.type !== 'tool_result' ||
          typeof b.tool_use_id !== 'string' ||
          seen.has(b.tool_use_id)
        )
          continue;
        seen.add(b.tool_use_id);
        const c = b.content;
        const text =
          typeof c === 'string'
            ? c
            : Array.isArray(c)
              ? c.map((p: { text?: string }) => p.text ?? '').join('')
              : JSON.stringify(c);
        out.push({ tool_use_id: b.tool_use_id, content: text });
      }
    }
  }
  return out;
}
