/**
 * How `validate --probe` reads a probe's outcome: what the agent's parser
 * recognised, then its exit and stderr, in one plain sentence.
 */
import { plainLine } from '../domain/plain-text.js';
import type { AgentAdapter } from './adapter.js';
import type { AgentEvent, ErrorCategory } from './events.js';
import type { ProbeStatus } from './probe.js';

/** Network failures as the CLIs and Node word them: the CLI never reached the provider. */
export const UNREACHABLE =
  /ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|getaddrinfo|connection (?:refused|error)|unable to connect|fetch failed|socket hang up|network error|could not resolve host|failed to connect|error sending request|stream disconnected/i;

export interface RunOutput {
  events: AgentEvent[];
  code: number | null;
  signal: NodeJS.Signals | null;
  stderrTail: string;
  timedOut: boolean;
  spawnError: string | null;
  /** Set when a decisive event ended the probe early (an auth rejection or a network failure). */
  early: Verdict | null;
}

export interface Verdict {
  status: ProbeStatus;
  detail: string | null;
  /** For `error`: what went wrong, without the agent's name. */
  what?: string;
  category?: ErrorCategory;
}

/**
 * A retry notice that already tells the outcome: a 401/403, or a second
 * failure without any HTTP answer (a connection refused, a DNS failure).
 */
export function retryVerdict(e: Extract<AgentEvent, { type: 'retry' }>): Verdict | null {
  const said = plainLine(e.message);
  if (e.status === 401 || e.status === 403)
    return { status: /expired/i.test(e.message) ? 'expired' : 'rejected', detail: said };
  if (e.status === null && (UNREACHABLE.test(e.message) || e.attempt >= 2)) {
    const detail =
      said && said !== 'unknown' && said !== 'model API error'
        ? said
        : `no HTTP answer, ${e.attempt} attempt(s)`;
    return { status: 'unreachable', detail };
  }
  return null;
}

export function classify(adapter: AgentAdapter, out: RunOutput): Verdict {
  if (out.spawnError) return { status: 'error', detail: out.spawnError, what: 'could not start' };
  const errors = out.events.filter(
    (e): e is Extract<AgentEvent, { type: 'error' }> => e.type === 'error',
  );
  // 1. What the agent's parser recognised.
  for (const cat of ['auth_expired', 'auth'] as const) {
    const e = errors.find((x) => x.category === cat);
    if (e) return { status: cat === 'auth' ? 'rejected' : 'expired', detail: plainLine(e.message) };
  }
  if (out.early) return out.early;
  const other = errors.find((x) => x.category);
  if (other)
    return {
      status: 'error',
      detail: plainLine(other.message),
      what: categoryWords(other.category),
      ...(other.category ? { category: other.category } : {}),
    };
  // 2. The CLI's own exit codes and stderr.
  if (!out.timedOut) {
    const d = adapter.diagnoseExit?.({ code: out.code, stderrTail: out.stderrTail });
    if (d) {
      const detail = plainLine(d.message);
      if (d.category === 'auth_expired') return { status: 'expired', detail };
      if (d.category === 'auth') return { status: 'rejected', detail };
      return { status: 'error', detail, what: categoryWords(d.category), category: d.category };
    }
  }
  // 3. Status codes and words, for parsers that do not categorise.
  const authErr = errors.find((x) => x.status === 401 || x.status === 403);
  if (authErr) {
    const detail = plainLine(authErr.message);
    return { status: /expired/i.test(authErr.message) ? 'expired' : 'rejected', detail };
  }
  const result = [...out.events]
    .reverse()
    .find((e): e is Extract<AgentEvent, { type: 'result' }> => e.type === 'result');
  const ok =
    !out.timedOut &&
    out.code === 0 &&
    errors.every((x) => !x.fatal) &&
    (result ? result.ok : adapter.kind === 'command');
  if (ok) return { status: 'ok', detail: result?.text ? plainLine(result.text, 120) : null };
  if (out.timedOut) {
    const retry = [...out.events].reverse().find((e) => e.type === 'retry');
    return {
      status: 'unreachable',
      detail: retry && retry.type === 'retry' ? plainLine(retry.message) : null,
    };
  }
  const said = [
    ...errors.map((x) => x.message),
    result && !result.ok ? result.text : '',
    out.stderrTail,
  ].filter((s) => s.trim() !== '');
  const net = said.find((s) => UNREACHABLE.test(s));
  if (net) return { status: 'unreachable', detail: plainLine(lastLines(net)) };
  if (
    said.some((s) =>
      /\b(401|403)\b|unauthori[sz]ed|invalid (?:x-)?api[ -_]?key|api key (?:not valid|invalid)|authentication/i.test(
        s,
      ),
    )
  ) {
    const s =
      said.find((x) => /\b(401|403)\b|unauthori[sz]ed|api[ -_]?key|authentication/i.test(x)) ?? '';
    return { status: /expired/i.test(s) ? 'expired' : 'rejected', detail: plainLine(lastLines(s)) };
  }
  const first = said[0];
  const detail = first ? plainLine(lastLines(first)) : null;
  if (result && !result.ok) return { status: 'error', detail, what: 'answered with an error' };
  if (out.code === 0) {
    return {
      status: 'error',
      detail,
      what: 'exited 0 without a final result (output not recognised)',
    };
  }
  const how =
    out.code === null ? `was killed by ${out.signal ?? 'a signal'}` : `exited ${out.code}`;
  return { status: 'error', detail, what: how };
}

function categoryWords(c: ErrorCategory | undefined): string {
  switch (c) {
    case 'config':
      return 'is not configured completely';
    case 'usage':
      return 'refused its command line';
    case 'budget':
      return 'stopped on its budget or turn limit';
    default:
      return 'failed';
  }
}

/** One sentence for the table: who, what, and what to do. */
export function sentence(label: string, v: Verdict, timeoutMs: number): string {
  const said = v.detail ? `: ${v.detail.replace(/[.\s]+$/, '')}` : '';
  switch (v.status) {
    case 'ok':
      return `${label} answered`;
    case 'rejected':
      return `the provider rejected ${label}'s key${said}. Check or replace the key.`;
    case 'expired':
      return `${label}'s key or login has expired${said}. Renew it.`;
    case 'unreachable':
      return v.detail
        ? `${label} could not reach its provider${said}. Check the base URL, proxy and network.`
        : `${label} got no answer within ${Math.max(1, Math.round(timeoutMs / 1000))} s. Check the base URL, proxy and network.`;
    case 'error':
      return `${label} ${v.what ?? 'failed'}${said}`;
  }
}

/** The last non-empty lines of a stderr tail (where a CLI's final word is). */
function lastLines(s: string, n = 3): string {
  return s
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^at\s/.test(l))
    .slice(-n)
    .join(' ');
}
