import { agentCommand } from '../config/schema.js';
import { ConfigError } from '../domain/errors.js';
import { plainLine } from '../domain/plain-text.js';
import type { AgentAdapter, Invocation } from './adapter.js';
import { homeInsideCwd, refuseUnprotected } from './board-files.js';
import { authCategory, checkedSessionId, commonExitDiagnosis } from './cli-failures.js';
import {
  type AgentEvent,
  jsonLinesParser,
  num,
  obj,
  str,
  type TranscriptParser,
  toolKind,
} from './events.js';

/** The permissions `ask`/`default` set: what changes things needs approval, refused in `run`. */
const ASK = JSON.stringify({ bash: 'ask', edit: 'ask', webfetch: 'ask' });

/** opencode's session ids: `ses_` and letters/digits. */
const SESSION_ID = /^ses_[A-Za-z0-9]{1,100}$/;

/**
 * opencode: `opencode run --format json`, the prompt on stdin, resume with `--session=<id>`.
 *
 * What it reports (1.18.33): token counts and cost per step (`step_finish`), i.e. per model
 * request, this run's own even on a resumed session. Provider retries (429, 5xx) are silent in
 * this mode. A tool use its permission rules refuse (`"ask"` is auto-rejected in `run`) ends as a
 * tool part in state `error` ("The user rejected permission…"), after which the run exits 0 with
 * no final step. A 401 is one `error` line (APIError, statusCode) and exit 1. Its budget has no
 * flag. `permission_mode`: `allow` → `--auto` (approve what is not explicitly denied); `ask` or
 * `default` → OPENCODE_PERMISSION making bash, edits and web fetches ask (so refused); unset:
 * its own config. Board files: with the home inside the cwd, only ask/default keep edits and
 * commands from running unasked (its own config allows them by default): the others are refused.
 */
export const opencodeAdapter: AgentAdapter = {
  kind: 'opencode',
  tokenEnv: 'OPENCODE_API_KEY',
  testedVersions: { min: '0.5.0', max: '1.18.33' },
  versionArgs: ['--version'],
  buildInvocation(ctx): Invocation {
    const { name, agent, resumeSessionId, token } = ctx;
    const argv = [agentCommand(agent), 'run', '--format', 'json'];
    const env: Record<string, string> = token ? { OPENCODE_API_KEY: token } : {};
    const mode = agent.permission_mode;
    if (mode !== 'ask' && mode !== 'default' && homeInsideCwd(ctx.cwd, ctx.boardHome))
      refuseUnprotected(
        ctx,
        `opencode edits files and runs commands unasked ${mode ? `in ${mode} mode` : 'under its own default permissions'}`,
      );
    if (mode === 'allow' || mode === 'auto') argv.push('--auto');
    else if (mode === 'ask' || mode === 'default') env.OPENCODE_PERMISSION = ASK;
    else if (mode !== undefined)
      throw new ConfigError(
        `agents.${name}.permission_mode: opencode takes allow (--auto), ask or default (shell, edits and fetches need approval, which \`opencode run\` refuses); got "${mode}"`,
      );
    if (agent.model) {
      // Without a provider opencode fails with "Unexpected server error".
      if (!agent.model.includes('/'))
        throw new ConfigError(
          `agents.${name}.model: opencode models are provider/model (e.g. anthropic/claude-sonnet-4-5); got "${agent.model}"`,
        );
      argv.push(`--model=${agent.model}`);
    }
    if (resumeSessionId) {
      const id = checkedSessionId('opencode', resumeSessionId, {
        pattern: SESSION_ID,
        name: 'ses_…',
      });
      argv.push(`--session=${id}`);
    }
    argv.push(...agent.args);
    return { argv, env, stdin: 'prompt' };
  },
  parser: opencodeParser,
  diagnoseExit: commonExitDiagnosis,
};

interface OpencodeState {
  sessionId: string | null;
  done: boolean;
  /** The text of the current step: the final step's text is the run's result. */
  text: string;
}

const PERMISSION_REJECTED =
  /rejected permission|permission (?:was )?(?:denied|rejected)|not allowed to use|auto-rejecting/i;

/**
 * `opencode run --format json` prints one line per finished part: `step_start`, `text`,
 * `reasoning`, `tool_use` (once, with its final state), `step_finish` (reason "tool-calls" between
 * steps, "stop" at the end; tokens and cost), and `error` (e.g. an APIError with the HTTP status),
 * after which the run exits 1 without printing anything else.
 */
export function opencodeParser(saved?: unknown): TranscriptParser {
  const s = obj(saved);
  const state: OpencodeState = {
    sessionId: str(s?.sessionId) ?? null,
    done: s?.done === true,
    text: str(s?.text) ?? '',
  };
  const inner = jsonLinesParser((o): AgentEvent[] | null => {
    const out: AgentEvent[] = [];
    const sid = str(o.sessionID);
    if (sid && state.sessionId === null) {
      state.sessionId = sid;
      out.push({ type: 'session', sessionId: sid });
    }
    const part = obj(o.part) ?? {};
    switch (o.type) {
      case 'step_start':
        state.text = '';
        return out;
      case 'text': {
        const t = str(part.text) ?? '';
        state.text = state.text ? `${state.text}\n${t}` : t;
        return [...out, { type: 'message', text: t }];
      }
      case 'reasoning':
        return [...out, { type: 'thinking', text: str(part.text) ?? '' }];
      case 'tool_use': {
        const name = str(part.tool) ?? 'tool';
        const id = str(part.callID) ?? str(part.id) ?? '';
        const st = obj(part.state) ?? {};
        const input = st.input ?? null;
        out.push({ type: 'tool_call', id, name, kind: toolKind(name), input });
        if (st.status === 'completed' || st.status === 'error') {
          const error = str(st.error) ?? '';
          if (st.status === 'error' && PERMISSION_REJECTED.test(error))
            out.push({ type: 'denial', id, tool: name, input, message: plainLine(error) });
          out.push({
            type: 'tool_result',
            id,
            status: st.status === 'error' ? 'error' : 'ok',
            output: str(st.output) ?? error,
          });
        }
        return out;
      }
      case 'step_finish': {
        // Per step (one model request): this run's own figures, added up.
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
        if (part.reason === 'stop' && !state.done) {
          state.done = true;
          out.push({ type: 'result', ok: true, text: state.text, sessionId: state.sessionId });
        }
        return out;
      }
      case 'error': {
        // The run ends here (exit 1): no step_finish or other result follows.
        const err = obj(o.error) ?? {};
        const data = obj(err.data) ?? {};
        const message = plainLine(
          str(data.message) ?? str(err.message) ?? str(err.name) ?? 'opencode error',
        );
        const status = num(data.statusCode);
        const category =
          authCategory(status, message) ??
          (err.name === 'ProviderAuthError' ? ('auth' as const) : null);
        out.push({
          type: 'error',
          message,
          ...(status === undefined ? {} : { status }),
          fatal: true,
          ...(category ? { category } : {}),
        });
        if (!state.done) {
          state.done = true;
          out.push({ type: 'result', ok: false, text: message, sessionId: state.sessionId });
        }
        return out;
      }
      default:
        return out.length > 0 ? [...out, { type: 'raw', data: o }] : null;
    }
  });
  return { ...inner, snapshot: () => ({ ...state }) };
}
