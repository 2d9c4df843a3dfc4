/** Runs a real agent CLI to completion with a time bound. Not a test file. */
import { spawn } from 'node:child_process';
import { type CliKind, type CliSetup, promptArgs } from './cli-env.js';

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** The run was killed after `timeoutMs`. */
  timedOut: boolean;
  /** The full argv after the binary. */
  args: string[];
}

export interface RunCliOptions {
  cwd: string;
  /** Kill the CLI's process group (SIGKILL) after this long. Default 60 s. */
  timeoutMs?: number;
}

export function runCli(setup: CliSetup, prompt: string, opts: RunCliOptions): Promise<CliRun> {
  const args = [...setup.argv, ...promptArgs(setup.kind, prompt)];
  const started = Date.now();
  const child = spawn(setup.bin, args, {
    cwd: opts.cwd,
    env: setup.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => {
    stdout += s;
  });
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    try {
      if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
    } catch {
      child.kill('SIGKILL');
    }
  }, opts.timeoutMs ?? 60_000);
  return new Promise((resolve, reject) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      // Leave no stragglers (e.g. shell tool children) behind.
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {}
      resolve({ code, signal, stdout, stderr, durationMs: Date.now() - started, timedOut, args });
    });
  });
}

/** Parses JSONL output, skipping lines that are not JSON. */
export function jsonLines(text: string): Array<Record<string, unknown>> {
  const out: Array<Record<string, unknown>> = [];
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (!t.startsWith('{')) continue;
    try {
      out.push(JSON.parse(t) as Record<string, unknown>);
    } catch {}
  }
  return out;
}

/** The assistant's text in a CLI's JSONL output, joined (Gemini streams it in deltas). */
export function assistantText(kind: CliKind, stdout: string): string {
  const parts: string[] = [];
  for (const e of jsonLines(stdout)) {
    if (kind === 'claude' && e.type === 'assistant') {
      const content = (e.message as { content?: Array<{ type?: string; text?: string }> })?.content;
      for (const b of content ?? []) if (b.type === 'text' && b.text) parts.push(b.text, '\n');
    } else if (kind === 'codex' && e.type === 'item.completed') {
      const item = e.item as { type?: string; text?: string };
      if (item.type === 'agent_message' && item.text) parts.push(item.text, '\n');
    } else if (kind === 'gemini' && e.type === 'message' && e.role === 'assistant') {
      parts.push(String(e.content ?? ''));
      if (e.delta !== true) parts.push('\n');
    }
  }
  return parts.join('');
}
