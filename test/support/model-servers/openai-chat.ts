/**
 * A scripted OpenAI Chat Completions API server (Qwen Code, GitHub Copilot CLI's `openai`
 * provider, opencode's `@ai-sdk/openai-compatible`). Not a test file.
 *
 * `POST /v1/chat/completions` with `stream: true` (SSE `chat.completion.chunk`s, tool calls in
 * `delta.tool_calls`, a last chunk with `usage` and empty `choices`, then `data: [DONE]`) or without
 * (one `chat.completion`). Requests that offer tools are turns of the script; requests without tools
 * are side calls (titles, summaries, "who speaks next" checks) answered without using the script.
 * `GET /v1/models` lists the requested model names seen so far (or one scripted model).
 *
 * A `shell` tool call becomes a call of whichever shell tool the request offers (`run_shell_command`
 * for Qwen Code, `bash` for Copilot and opencode, `shell`), with `command` and `description`.
 *
 * A request that asks to finish an answer whose stream was cut (Qwen Code's continuation, see
 * {@link chatContinuation}) is answered with the rest of that turn.
 */
import type { ServerResponse } from 'node:http';
import {
  type CapturedRequest,
  cutCounter,
  type ModelServer,
  newId,
  type Routed,
  type ServerOptions,
  sendError,
  sendJson,
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

export const CHAT_SIDE_CALL_TEXT = 'Scripted side answer';

interface ChatTool {
  type?: string;
  function?: { name?: string; parameters?: { properties?: Record<string, unknown> } };
}
interface ChatMessage {
  role?: string;
  content?: unknown;
  tool_calls?: unknown[];
  tool_call_id?: string;
}
interface ChatBody {
  model?: string;
  stream?: boolean;
  stream_options?: { include_usage?: boolean };
  tools?: ChatTool[];
  messages?: ChatMessage[];
  response_format?: unknown;
}

/** The shell tools the CLIs offer, by name, most specific first. */
const SHELL_TOOLS = ['run_shell_command', 'bash', 'shell', 'execute_command', 'powershell'];

/** The shell tool a request offers, if any. */
export function chatShellTool(tools: ChatTool[] | undefined): string | undefined {
  const names = (tools ?? []).map((t) => t.function?.name ?? '');
  return SHELL_TOOLS.find((n) => names.includes(n));
}

interface ScriptedCall {
  id: string;
  name: string;
  arguments: string;
}

function toolCallFor(tool: ToolCall, tools: ChatTool[] | undefined, turn: number): ScriptedCall {
  const id = newId(`call_t${turn}_`);
  if (!isShell(tool)) return { id, name: tool.name, arguments: JSON.stringify(tool.input) };
  const name = chatShellTool(tools) ?? 'run_shell_command';
  const props =
    (tools ?? []).find((t) => t.function?.name === name)?.function?.parameters?.properties ?? {};
  const input: Record<string, unknown> = { command: tool.shell };
  // Only the parameters the tool declares (Copilot's bash tool rejects unknown ones).
  if ('description' in props || Object.keys(props).length === 0)
    input.description = tool.description ?? 'Run a command';
  return { id, name, arguments: JSON.stringify(input) };
}

/** The scripted turn a request is at: the number of assistant-message runs in its history. */
export function chatTurnIndex(body: ChatBody): number {
  return countModelTurns(
    (body.messages ?? []).filter((m) => m.role !== 'system'),
    (m) => m.role === 'assistant',
  );
}

/** The text of a chat message's content: a string or a list of `{type: "text", text}` parts. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((p) => {
      const text = (p as { text?: unknown } | null)?.text;
      return typeof text === 'string' ? text : '';
    })
    .join('');
}

const PREVIOUS_SUFFIX = /<previous_response_suffix>\n?([\s\S]*?)\n?<\/previous_response_suffix>/;

/**
 * A request to finish an answer whose stream was cut. Qwen Code (0.21.10) retries a dropped
 * stream by sending the history, the partial answer as an assistant message, and a user message
 * "The connection dropped mid-response. Resume directly … output only text that comes after this
 * suffix: <previous_response_suffix>…</previous_response_suffix>". A real model continues the
 * same answer; it is not a new turn. null for any other request.
 */
export function chatContinuation(
  body: ChatBody,
): { history: ChatMessage[]; delivered: string } | null {
  const messages = body.messages ?? [];
  const last = messages.at(-1);
  const partial = messages.at(-2);
  if (last?.role !== 'user' || partial?.role !== 'assistant') return null;
  const m = PREVIOUS_SUFFIX.exec(contentText(last.content));
  if (!m) return null;
  return {
    history: messages.slice(0, -2),
    delivered: contentText(partial.content) || (m[1] ?? ''),
  };
}

/** What is left of a scripted turn once `delivered` (the start of its text) was received. */
export function continuedTurn(turn: ModelTurn, delivered: string): ModelTurn {
  const text = turn.text ?? '';
  let rest = text;
  if (delivered && text.startsWith(delivered)) rest = text.slice(delivered.length);
  else if (delivered && text.includes(delivered))
    rest = text.slice(text.indexOf(delivered) + delivered.length);
  const out: ModelTurn = { text: rest };
  if (turn.tool) out.tool = turn.tool;
  return out;
}

interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

function usageFor(body: unknown, turn: ModelTurn, call: ScriptedCall | undefined): Usage {
  const input = tokens(JSON.stringify(body ?? ''));
  const output =
    (turn.thinking === undefined ? 0 : tokens(turn.thinking)) +
    (turn.text === undefined ? 0 : tokens(turn.text)) +
    (call ? tokens(call.arguments) : 0);
  return {
    prompt_tokens: input,
    completion_tokens: Math.max(1, output),
    total_tokens: input + Math.max(1, output),
    prompt_tokens_details: { cached_tokens: 0 },
  };
}

/** Destroys the socket once what was written is flushed, so the client sees the partial stream. */
function cutSocket(res: ServerResponse): void {
  const socket = res.socket;
  if (!socket) res.destroy();
  else socket.write('', () => socket.destroy());
}

function writeChunk(res: ServerResponse, data: unknown): void {
  res.write(`data: ${JSON.stringify(data)}\n\n`);
}

/**
 * Streams one turn. With `cut`, the socket is destroyed after the first content delta, before any
 * finish_reason or usage.
 */
function streamTurn(
  res: ServerResponse,
  model: string,
  turn: ModelTurn,
  call: ScriptedCall | undefined,
  u: Usage,
  cut: boolean,
): void {
  const id = newId('chatcmpl-');
  const created = Math.floor(Date.now() / 1000);
  const chunk = (delta: Record<string, unknown>, finish: string | null = null) => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
  });
  res.writeHead(200, {
    'content-type': 'text/event-stream',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    'x-request-id': newId('req_'),
  });
  writeChunk(res, chunk({ role: 'assistant', content: '' }));
  let first = true;
  const delta = (d: Record<string, unknown>): boolean => {
    writeChunk(res, chunk(d));
    if (first && cut) {
      cutSocket(res);
      return false;
    }
    first = false;
    return true;
  };
  if (turn.thinking !== undefined)
    for (const c of chunks(turn.thinking)) if (!delta({ reasoning_content: c })) return;
  if (turn.text !== undefined)
    for (const c of chunks(turn.text)) if (!delta({ content: c })) return;
  if (call) {
    const started = delta({
      tool_calls: [
        { index: 0, id: call.id, type: 'function', function: { name: call.name, arguments: '' } },
      ],
    });
    if (!started) return;
    for (const c of chunks(call.arguments))
      writeChunk(res, chunk({ tool_calls: [{ index: 0, function: { arguments: c } }] }));
  }
  if (cut) {
    cutSocket(res);
    return;
  }
  writeChunk(res, chunk({}, call ? 'tool_calls' : 'stop'));
  writeChunk(res, { id, object: 'chat.completion.chunk', created, model, choices: [], usage: u });
  res.write('data: [DONE]\n\n');
  res.end();
}

function completion(
  model: string,
  turn: ModelTurn,
  call: ScriptedCall | undefined,
  u: Usage,
): unknown {
  return {
    id: newId('chatcmpl-'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: turn.text ?? null,
          ...(turn.thinking === undefined ? {} : { reasoning_content: turn.thinking }),
          ...(call
            ? {
                tool_calls: [
                  {
                    id: call.id,
                    type: 'function',
                    function: { name: call.name, arguments: call.arguments },
                  },
                ],
              }
            : {}),
        },
        logprobs: null,
        finish_reason: call ? 'tool_calls' : 'stop',
      },
    ],
    usage: u,
  };
}

/** OpenAI's own error bodies: 401 `invalid_api_key`, 429 `rate_limit_exceeded`, 5xx `server_error`. */
export function openaiErrorBody(status: number): unknown {
  if (status === 401)
    return {
      error: {
        message: 'Incorrect API key provided: sk-scri*****test.',
        type: 'invalid_request_error',
        param: null,
        code: 'invalid_api_key',
      },
    };
  if (status === 429)
    return {
      error: {
        message: 'Rate limit reached for requests. Please try again in 2s.',
        type: 'requests',
        param: null,
        code: 'rate_limit_exceeded',
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

/** A side call asking for JSON (e.g. "who speaks next") gets a JSON answer that ends the turn. */
function sideText(body: ChatBody): string {
  const all = JSON.stringify(body.messages ?? []);
  if (/next_speaker/.test(all))
    return JSON.stringify({ reasoning: 'The model finished its answer.', next_speaker: 'user' });
  if (body.response_format !== undefined) return '{}';
  return CHAT_SIDE_CALL_TEXT;
}

export function startOpenAIChatServer(
  scenario: Scenario,
  opts: ServerOptions = {},
): Promise<ModelServer> {
  const shouldCut = cutCounter();
  const models = new Set<string>();
  return startServer(
    scenario,
    (req, error): Routed => {
      if (error)
        return {
          kind: 'error',
          status: error.status,
          send: (res) => sendError(res, error, openaiErrorBody(error.status)),
        };
      if (req.method === 'POST' && /^(\/v1)?\/chat\/completions$/.test(req.path)) {
        const body = (req.body ?? {}) as ChatBody;
        const model = body.model ?? 'gpt-scripted';
        models.add(model);
        const main = Array.isArray(body.tools) && body.tools.length > 0;
        // A continuation of a cut answer is the rest of that turn, not the next one.
        const continuation = main ? chatContinuation(body) : null;
        const index = main
          ? chatTurnIndex(continuation ? { ...body, messages: continuation.history } : body)
          : undefined;
        const scripted: ModelTurn =
          index === undefined ? { text: sideText(body) } : turnAt(scenario, index);
        const turn = continuation ? continuedTurn(scripted, continuation.delivered) : scripted;
        const call =
          turn.tool && index !== undefined ? toolCallFor(turn.tool, body.tools, index) : undefined;
        const cut = index !== undefined && shouldCut(index, scripted.cut);
        const u = usageFor(req.body, turn, call);
        return {
          kind: main ? 'main' : 'side',
          ...(index === undefined ? {} : { turn: index }),
          // What this response reports (a cut one reports nothing).
          ...(cut
            ? { cut: true }
            : { usage: { input: u.prompt_tokens, output: u.completion_tokens, cacheRead: 0 } }),
          send: (res) =>
            body.stream
              ? streamTurn(res, model, turn, call, u, cut)
              : sendJson(res, 200, completion(model, turn, call, u), {
                  'x-request-id': newId('req_'),
                }),
        };
      }
      if (req.method === 'GET' && /^(\/v1)?\/models$/.test(req.path)) {
        const ids = models.size > 0 ? [...models] : ['gpt-scripted'];
        return {
          kind: 'other',
          send: (res) =>
            sendJson(res, 200, {
              object: 'list',
              data: ids.map((id) => ({ id, object: 'model', created: 0, owned_by: 'scripted' })),
            }),
        };
      }
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

/** The `tool` messages the CLI sent back, with their text content, each once. */
export function openaiChatToolResults(
  requests: CapturedRequest[],
): Array<{ tool_call_id: string; content: string }> {
  const out: Array<{ tool_call_id: string; content: string }> = [];
  const seen = new Set<string>();
  for (const r of requests) {
    if (r.kind !== 'main') continue;
    for (const m of (r.body as ChatBody).messages ?? []) {
      if (m.role !== 'tool' || typeof m.tool_call_id !== 'string' || seen.has(m.tool_call_id))
        continue;
      seen.add(m.tool_call_id);
      const c = m.content;
      const text =
        typeof c === 'string'
          ? c
          : Array.isArray(c)
            ? c.map((p: { text?: string }) => p.text ?? '').join('')
            : JSON.stringify(c);
      out.push({ tool_call_id: m.tool_call_id, content: text });
    }
  }
  return out;
}
