import { agentCommand } from '../config/schema.js';
import type { AgentAdapter, Invocation } from './adapter.js';
import {
  type AgentEvent,
  jsonLinesParser,
  num,
  obj,
  str,
  type TranscriptParser,
  toolKind,
} from './events.js';

/** opencode: `opencode run --format json`, the prompt on stdin, resume with --session. */
export const opencodeAdapter: AgentAdapter = {
  kind: 'opencode',
  tokenEnv: 'OPENCODE_API_KEY',
  testedVersions: { min: '0.5.0', max: '1.18.33' },
  versionArgs: ['--version'],
  buildInvocation({ agent, resumeSessionId, token }): Invocation {
    const argv = [agentCommand(agent), 'run', '--format', 'json'];
    if (agent.model) argv.push('--model', agent.model);
    if (resumeSessionId) argv.push('--session', resumeSessionId);
    argv.push(...agent.args);
    return { argv, env: token ? { OPENCODE_API_KEY: token } : {}, stdin: 'prompt' };
  },
  parser: opencodeParser,
};

/**
 * `opencode run --format json` prints one line per finished part: `step_start`, `text`,
 * `reasoning`, `tool_use` (once, with its final state), `step_finish` (reason "tool-calls" between
 * steps, "stop" at the end; tokens and cost), and `error` (e.g. an APIError with the HTTP status),
 * after which the run exits 1 without printing anything else.
 */
export function opencodeParser(): TranscriptParser {
  let sessionId: string | null = null;
  let announced = false;
  let done = false;
  /** The text of the current step: the final step's text is the run's result. */
  let text = '';
  return jsonLinesParser((o): AgentEvent[] | null => {
    const out: AgentEvent[] = [];
    const sid = str(o.sessionID);
    if (sid && !announced) {
      sessionId = sid;
      announced = true;
      out.push({ type: 'session', sessionId: sid });
    }
    const part = obj(o.part) ?? {};
    switch (o.type) {
      case 'step_start':
        text = '';
        return out;
      case 'text': {
        const t = str(part.text) ?? '';
        text = text ? `${text}\n${t}` : t;
        return [...out, { type: 'message', text: t }];
      }
      case 'reasoning':
        return [...out, { type: 'thinking', text: str(part.text) ?? '' }];
      case 'tool_use': {
        const name = str(part.tool) ?? 'tool';
        const id = str(part.callID) ?? str(part.id) ?? '';
        const state = obj(part.state) ?? {};
        out.push({ type: 'tool_call', id, name, kind: toolKind(name), input: state.input ?? null });
        if (state.status === 'completed' || state.status === 'error') {
          out.push({
            type: 'tool_result',
            id,
            status: state.status === 'error' ? 'error' : 'ok',
            output: str(state.output) ?? str(state.error) ?? '',
          });
        }
        return out;
      }
      case 'step_finish': {
        const tokens = obj(part.tokens) ?? {};
        const cache = obj(tokens.cache) ?? {};
        out.push({
          type: 'usage',
          tokensIn: num(tokens.input) ?? 0,
          tokensOut: (num(tokens.output) ?? 0) + (num(tokens.reasoning) ?? 0),
          cacheRead: num(cache.read) ?? 0,
          cacheWrite: num(cache.write) ?? 0,
        });
        const cost = num(part.cost);
        if (cost !== undefined && cost > 0)
          out.push({ type: 'cost', usd: cost, source: 'reported' });
        if (part.reason === 'stop' && !done) {
          done = true;
          out.push({ type: 'result', ok: true, text, sessionId });
        }
        return out;
      }
      case 'error': {
        // The run ends here (exit 1): no step_finish or other result follows.
        const err = obj(o.error) ?? {};
        const data = obj(err.data) ?? {};
        const message = str(data.message) ?? str(err.message) ?? str(err.name) ?? 'error';
        const status = num(data.statusCode);
        out.push({
          type: 'error',
          message,
          ...(status === undefined ? {} : { status }),
          fatal: true,
        });
        if (!done) {
          done = true;
          out.push({ type: 'result', ok: false, text: message, sessionId });
        }
        return out;
      }
      default:
        return out.length > 0 ? [...out, { type: 'raw', data: o }] : null;
    }
  });
}
