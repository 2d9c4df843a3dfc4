import type { AgentAdapter } from '../agents/adapter.js';
import { classifyExit } from '../domain/exit.js';
import { type AgentAccount, judgeByAccount, type RunEndDecision } from '../domain/run-end.js';
import type { Diagnosis, TranscriptTail } from './transcript.js';

/** "claude 2.1.330", or the kind alone when the version could not be read. */
export function cliLabel(kind: string, version: string | null): string {
  return version ? `${kind} ${version}` : `${kind} (version unknown)`;
}

export function describeDiagnosis(
  agent: string,
  kind: string,
  version: string | null,
  d: Diagnosis,
): string {
  return classifyExit({ kind: 'agent_error', agent, cli: cliLabel(kind, version), ...d }).reason;
}

/**
 * The run's verdict once the agent's own account is heard: what its
 * transcript said, else what its adapter makes of the exit code and stderr.
 */
export function judgeLiveRun(
  decision: RunEndDecision,
  o: {
    stopped: boolean;
    agent: string;
    adapter: AgentAdapter | null;
    version: string | null;
    transcript: TranscriptTail | null;
    exitCode: number | null;
    stderrTail: () => string;
  },
): RunEndDecision {
  const t = o.transcript;
  const exitDiagnosis =
    decision.state === 'failed' && !t?.diagnosis
      ? (o.adapter?.diagnoseExit?.({ code: o.exitCode, stderrTail: o.stderrTail() }) ?? null)
      : null;
  const account: AgentAccount = {
    agent: o.agent,
    cli: cliLabel(o.adapter?.kind ?? 'agent', o.version),
    resultOk: t?.result ? t.result.ok : null,
    failure: t?.failure ?? null,
    diagnosis: t?.diagnosis ?? (exitDiagnosis ? { ...exitDiagnosis, status: null } : null),
    unparsedLines: t?.unparsed ?? 0,
    overBudget: t?.overBudget ?? null,
    // Without a transcript (no adapter: the agent left config) the exit code is all there is.
    exitIsResult: !o.adapter || !t || o.adapter.kind === 'command',
  };
  return judgeByAccount(decision, o.stopped, account);
}
