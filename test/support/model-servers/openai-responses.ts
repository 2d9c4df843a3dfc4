/**
 * A scripted OpenAI Responses API server for Codex CLI. Not a test file.
 *
 * `POST /v1/responses` with `stream: true` (SSE) or without (one JSON response). Every request is
 * a turn of the script (Codex 0.169 made no side requests in exec mode). A `shell` tool call becomes a call of
 * whichever shell tool the request offers: `exec_command` ({cmd}, Codex 0.169's unified exec),
 * `shell_command` ({command: string}), `shell` ({command: argv}), or a `local_shell_call` item.
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
  type ToolCall,
  tokens,
  turnAt,
} from './scenario.js';

interface Tool {
  type?: string;
  name?: string;
}
interface InputItem {
  type?: string;
  role?: string;
  call_id?: string;
  output?: unknown;
}
interface ResponsesBody {
  model?: string;
  stream?: boolean;
  tools?: Tool[];
  input?: InputItem[] | string;
}

type OutputItem = Record<string, unknown> & { type: string; id: string };

const MODEL_ITEM_TYPES = new Set([
  'reasoning',
  'function_call',
  'custom_tool_call',
  'local_shell_call',
  'web_search_call',
]);

function isModelItem(i: InputItem): boolean {
  return (i.type === 'message' && i.role === 'assistant') || MODEL_ITEM_TYPES.has(i.type ?? '');
}

/** The scripted turn a request is at: the number of model-output runs in its input. */
export function responsesTurnIndex(body: ResponsesBody): number {
  return Array.isArray(body.input) ? countModelTurns(body.input, isModelItem) : 0;
}

/** The shell tool a Codex request offers, by name (or `local_shell` for the built-in tool type). */
export function codexShellTool(tools: Tool[] | undefined): string | undefined {
  const names = (tools ?? []).map((t) => (t.type === 'local_shell' ? 'local_shell' : t.name));
  return ['exec_command', 'shell_command', 'shell', 'local_shell'].find((n) => names.includes(n));
}

function toolItem(tool: ToolCall, tools: Tool[] | undefined, turn: number): OutputItem {
  const callId = newId(`call_t${turn}_`);
  if (!isShell(tool))
    return {
      type: 'function_call',
      id: newId('fc_'),
      call_id: callId,
      name: tool.name,
      arguments: JSON.stringify(tool.input),
      status: 'completed',
    };
  const shell = codexShellTool(tools) ?? 'exec_command';
  if (shell === 'local_shell')
    return {
      type: 'local_shell_call',
      id: newId('lsh_'),
      call_id: callId,
      status: 'completed',
      action: { type: 'exec', command: ['bash', '-lc', tool.shell] },
    };
  const args =
    shell === 'exec_command'
      ? { cmd: tool.shell }
      : shell === 'shell_command'
        ? { command: tool.shell }
        : { command: ['bash', '-lc', tool.shell] };
  return {
    type: 'function_call',
    id: newId('fc_'),
    call_id: callId,
    name: shell,
    arguments: JSON.stringify(args),
    status: 'completed',
  };
}

function outputFor(turn: ModelTurn, tools: Tool[] | undefined, index: number): OutputItem[] {
  const out: OutputItem[] = [];
  if (turn.thinking !== undefined)
    out.push({
      type: 'reasoning',
      id: newId('rs_'),
      summary: [{ type: 'summary_text', text: turn.thinking }],
      encrypted_content: null,
    });
  if (turn.text !== undefined)
    out.push({
      type: 'message',
      id: newId('msg_'),
      role: 'assistant',
      status: 'completed',
      content: [{ type: 'output_text', text: turn.text, annotations: [] }],
    });
  if (turn.tool) out.push(toolItem(turn.tool, tools, index));
  return out;
}

function usage(body: unknown, output: OutputItem[]) {
  const input = tokens(JSON.stringify(body ?? ''));
  const out = tokens(JSON.stringify(output));
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: out,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + out,
  };
}

function response(id: string, model: string, status: string, output: OutputItem[], u?: unknown) {
  return {
    id,
    object: 'response',
    created_at: Math.floor(Date.now() / 1000),
    status,
    model,
    output,
    ...(u === undefined ? {} : { usage: u }),
  };
}

function streamEvents(model: string, body: unknown, output: OutputItem[]) {
  const id = newId('resp_');
  const events: Array<{ event: string; data: unknown }> = [];
  let seq = 0;
  const ev = (type: string, data: Record<string, unknown>) =>
    events.push({ event: type, data: { type, sequence_number: seq++, ...data } });
  ev('response.created', { response: response(id, model, 'in_progress', []) });
  ev('response.in_progress', { response: response(id, model, 'in_progress', []) });
  output.forEach((item, output_index) => {
    const item_id = item.id;
    if (item.type === 'message') {
      const text = (item.content as Array<{ text: string }>)[0]?.text ?? '';
      ev('response.output_item.added', {
        output_index,
        item: { ...item, status: 'in_progress', content: [] },
      });
      const part = { type: 'output_text', text: '', annotations: [] };
      ev('response.content_part.added', { item_id, output_index, content_index: 0, part });
      for (const delta of chunks(text))
        ev('response.output_text.delta', { item_id, output_index, content_index: 0, delta });
      ev('response.output_text.done', { item_id, output_index, content_index: 0, text });
      ev('response.content_part.done', {
        item_id,
        output_index,
        content_index: 0,
        part: { ...part, text },
      });
    } else if (item.type === 'reasoning') {
      const text = (item.summary as Array<{ text: string }>)[0]?.text ?? '';
      ev('response.output_item.added', { output_index, item: { ...item, summary: [] } });
      const part = { type: 'summary_text', text: '' };
      ev('response.reasoning_summary_part.added', {
        item_id,
        output_index,
        summary_index: 0,
        part,
      });
      for (const delta of chunks(text))
        ev('response.reasoning_summary_text.delta', {
          item_id,
          output_index,
          summary_index: 0,
          delta,
        });
      ev('response.reasoning_summary_text.done', { item_id, output_index, summary_index: 0, text });
      ev('response.reasoning_summary_part.done', {
        item_id,
        output_index,
        summary_index: 0,
        part: { ...part, text },
      });
    } else if (item.type === 'function_call') {
      const args = String(item.arguments);
      ev('response.output_item.added', {
        output_index,
        item: { ...item, arguments: '', status: 'in_progress' },
      });
      for (const delta of chunks(args))
        ev('response.function_call_arguments.delta', { item_id, output_index, delta });
      ev('response.function_call_arguments.done', { item_id, output_index, arguments: args });
    } else {
      ev('response.output_item.added', { output_index, item });
    }
    ev('response.output_item.done', { output_index, item });
  });
  ev('response.completed', {
    response: response(id, model, 'completed', output, usage(body, output)),
  });
  return events;
}

function errorBody(status: number): unknown {
  if (status === 401)
    return {
      error: {
        message: 'Incorrect API key provided: sk-scri*****test.',
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    };
  return {
    error: {
      message: `Scripted error ${status}`,
      type: status >= 500 ? 'server_error' : 'invalid_request_error',
      param: null,
      code: null,
    },
  };
}

export function startResponsesServer(
  scenario: Scenario,
  opts: ServerOptions = {},
): Promise<ModelServer> {
  const shouldCut = cutCounter();
  return startServer(
    scenario,
    (req, error): Routed => {
      if (error)
        return {
          kind: 'error',
          status: error.status,
          send: (res) => sendError(res, error, errorBody(error.status)),
        };
      if (req.method === 'POST' && req.path === '/v1/responses') {
        const body = (req.body ?? {}) as ResponsesBody;
        const model = body.model ?? 'gpt-scripted';
        const turn = responsesTurnIndex(body);
        const scripted = turnAt(scenario, turn);
        const output = outputFor(scripted, body.tools, turn);
        const cut = shouldCut(turn, scripted.cut);
        const u = usage(req.body, output);
        return {
          kind: 'main',
          turn,
          ...(cut
            ? { cut }
            : {
                usage: {
                  input: u.input_tokens - u.input_tokens_details.cached_tokens,
                  output: u.output_tokens,
                  cacheRead: u.input_tokens_details.cached_tokens,
                },
              }),
          send: (res) => {
            if (body.stream === false) {
              const r = response(newId('resp_'), model, 'completed', output, u);
              if (cut) sendCutJson(res, r);
              else sendJson(res, 200, r);
              return;
            }
            const events = streamEvents(model, req.body, output);
            const firstDelta = events.findIndex((e) => e.event.endsWith('.delta'));
            sendSse(
              res,
              events,
              { 'x-request-id': newId('req_') },
              cut ? (firstDelta < 0 ? 1 : firstDelta) : undefined,
            );
          },
        };
      }
      if (req.method === 'GET' && req.path === '/v1/models')
        return {
          kind: 'other',
          send: (res) => sendJson(res, 200, { object: 'list', data: [], models: [] }),
        };
      return {
        kind: 'unknown',
        status: 404,
        send: (res) =>
          sendJson(res, 404, { error: { message: 'Not found', type: 'invalid_request_error' } }),
      };
    },
    opts,
  );
}

/** The tool outputs Codex sent back (`function_call_output` / `local_shell_call_output`). */
export function responsesToolResults(
  requests: CapturedRequest[],
): Array<{ call_id: string; output: string }> {
  const out: Array<{ call_id: string; output: string }> = [];
  const seen = new Set<string>();
  for (const r of requests) {
    if (r.kind !== 'main') continue;
    const input = (r.body as ResponsesBody).input;
    if (!Array.isArray(input)) continue;
    for (const i of input) {
      if (!i.type?.endsWith('_output') || typeof i.call_id !== 'string' || seen.has(i.call_id))
        continue;
      seen.add(i.call_id);
      out.push({
        call_id: i.call_id,
        output: typeof i.output === 'string' ? i.output : JSON.stringify(i.output),
      });
    }
  }
  return out;
}
