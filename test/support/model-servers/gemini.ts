/**
 * A scripted Gemini API server for Gemini CLI. Not a test file.
 *
 * `POST /v1beta/models/<model>:streamGenerateContent?alt=sse` (SSE) and `:generateContent`.
 * Requests that declare tools are turns of the script. Others are side calls of the CLI (the
 * model router's complexity classifier, next-speaker and loop checks…): those asking for JSON get
 * a value built from their response schema, the rest a short text, without consuming the script.
 * `:countTokens` is answered with an estimate.
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

export const GEMINI_SHELL_TOOL = 'run_shell_command';
export const SIDE_CALL_TEXT = 'Scripted side answer';

interface Content {
  role?: string;
  parts?: Array<Record<string, unknown>>;
}
interface GenerateBody {
  contents?: Content[];
  tools?: Array<{ functionDeclarations?: Array<{ name?: string }> }>;
  generationConfig?: {
    responseMimeType?: string;
    responseJsonSchema?: unknown;
    responseSchema?: unknown;
  };
}

type Part = Record<string, unknown>;

/** The scripted turn a request is at: the number of model turns in its contents. */
export function geminiTurnIndex(body: GenerateBody): number {
  return countModelTurns(body.contents ?? [], (c) => c.role === 'model');
}

function hasTools(body: GenerateBody): boolean {
  return (body.tools ?? []).some((t) => (t.functionDeclarations ?? []).length > 0);
}

/** A value that satisfies a (Gemini or JSON) schema; `next_speaker` answers "user". */
export function sampleFromSchema(schema: unknown, key?: string): unknown {
  const s = (schema ?? {}) as Record<string, unknown>;
  if (key === 'next_speaker') return 'user';
  const enumValues = s.enum as unknown[] | undefined;
  if (Array.isArray(enumValues) && enumValues.length > 0) return enumValues[0];
  const type = String(s.type ?? 'object').toLowerCase();
  switch (type) {
    case 'object': {
      const props = (s.properties ?? {}) as Record<string, unknown>;
      return Object.fromEntries(Object.entries(props).map(([k, v]) => [k, sampleFromSchema(v, k)]));
    }
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return typeof s.minimum === 'number' ? s.minimum : 1;
    case 'boolean':
      return false;
    default:
      return key === undefined ? SIDE_CALL_TEXT : `Scripted ${key}`;
  }
}

function partsFor(turn: ModelTurn): Part[][] {
  // One SSE chunk per inner array.
  const out: Part[][] = [];
  if (turn.thinking !== undefined) out.push([{ text: turn.thinking, thought: true }]);
  if (turn.text !== undefined) for (const c of chunks(turn.text)) out.push([{ text: c }]);
  if (turn.tool) {
    const t = turn.tool;
    out.push([
      {
        functionCall: isShell(t)
          ? {
              name: GEMINI_SHELL_TOOL,
              args: { command: t.shell, description: t.description ?? 'Run a command' },
            }
          : { name: t.name, args: t.input },
      },
    ]);
  }
  if (out.length === 0) out.push([{ text: '' }]);
  return out;
}

function usage(body: unknown, parts: Part[][]) {
  const prompt = tokens(JSON.stringify(body ?? ''));
  const candidates = tokens(JSON.stringify(parts));
  return {
    promptTokenCount: prompt,
    candidatesTokenCount: candidates,
    totalTokenCount: prompt + candidates,
  };
}

function chunk(model: string, responseId: string, parts: Part[], last: boolean, u?: unknown) {
  return {
    candidates: [
      {
        content: { role: 'model', parts },
        index: 0,
        ...(last ? { finishReason: 'STOP' } : {}),
      },
    ],
    ...(u === undefined ? {} : { usageMetadata: u }),
    modelVersion: model,
    responseId,
  };
}

function errorBody(status: number): unknown {
  const statusName: Record<number, string> = {
    400: 'INVALID_ARGUMENT',
    401: 'UNAUTHENTICATED',
    403: 'PERMISSION_DENIED',
    404: 'NOT_FOUND',
    429: 'RESOURCE_EXHAUSTED',
    500: 'INTERNAL',
    503: 'UNAVAILABLE',
  };
  const message =
    status === 401 ? 'API key not valid. Please pass a valid API key.' : `Scripted error ${status}`;
  return { error: { code: status, message, status: statusName[status] ?? 'UNKNOWN' } };
}

const MODEL_PATH = /^\/v1(?:beta|alpha)?\/models\/([^/:]+):([A-Za-z]+)$/;

export function startGeminiServer(
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
      const m = req.method === 'POST' ? MODEL_PATH.exec(req.path) : null;
      const model = m?.[1] ?? 'gemini-scripted';
      const method = m?.[2];
      if (method === 'countTokens')
        return {
          kind: 'other',
          send: (res) =>
            sendJson(res, 200, { totalTokens: tokens(JSON.stringify(req.body ?? '')) }),
        };
      if (method === 'generateContent' || method === 'streamGenerateContent') {
        const body = (req.body ?? {}) as GenerateBody;
        const main = hasTools(body);
        const turn = main ? geminiTurnIndex(body) : undefined;
        const scripted = main ? turnAt(scenario, turn ?? 0) : undefined;
        let parts: Part[][];
        if (scripted) parts = partsFor(scripted);
        else {
          const gc = body.generationConfig ?? {};
          const schema = gc.responseJsonSchema ?? gc.responseSchema;
          const json = schema !== undefined || gc.responseMimeType === 'application/json';
          parts = [[{ text: json ? JSON.stringify(sampleFromSchema(schema)) : SIDE_CALL_TEXT }]];
        }
        const cut = turn !== undefined && shouldCut(turn, scripted?.cut);
        const responseId = newId('resp-');
        const u = usage(req.body, parts);
        return {
          kind: main ? 'main' : 'side',
          ...(turn === undefined ? {} : { turn }),
          ...(cut
            ? { cut }
            : {
                usage: {
                  input: u.promptTokenCount,
                  output: u.candidatesTokenCount,
                  cacheRead: 0,
                },
              }),
          send: (res) => {
            if (method !== 'streamGenerateContent') {
              const whole = chunk(model, responseId, parts.flat(), true, u);
              if (cut) sendCutJson(res, whole);
              else sendJson(res, 200, whole);
              return;
            }
            // A cut stream stops after its first chunk, even when the turn has only one.
            const events = parts.map((p, i) => {
              const last = i === parts.length - 1 && !cut;
              return { data: chunk(model, responseId, p, last, last ? u : undefined) };
            });
            sendSse(res, events, {}, cut ? 0 : undefined);
          },
        };
      }
      return {
        kind: 'unknown',
        status: 404,
        send: (res) => sendJson(res, 404, errorBody(404)),
      };
    },
    opts,
  );
}

/** The `functionResponse` parts Gemini CLI sent back, with their response as JSON text. */
export function geminiToolResults(
  requests: CapturedRequest[],
): Array<{ name: string; response: string }> {
  const out: Array<{ name: string; response: string }> = [];
  const seen = new Set<string>();
  for (const r of requests) {
    if (r.kind !== 'main') continue;
    (r.body as GenerateBody).contents?.forEach((c, ci) => {
      c.parts?.forEach((p, pi) => {
        const fr = p.functionResponse as
          | { name?: string; id?: string; response?: unknown }
          | undefined;
        if (!fr) return;
        const key = fr.id ?? `${ci}:${pi}`;
        if (seen.has(key)) return;
        seen.add(key);
        out.push({ name: fr.name ?? '', response: JSON.stringify(fr.response) });
      });
    });
  }
  return out;
}
