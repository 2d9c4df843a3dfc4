import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const VERIFY_OUTPUT_LIMIT = 64 * 1024;

export interface Completion {
  /** Loop completion: the DONE marker exists or the verify command passed. */
  complete: boolean;
  verified: boolean;
  verify?: { exitCode: number; output: string };
}

/**
 * After a successful run: is the task's work complete? The DONE marker is a
 * file in the workspace; the verify command is the user's own shell command
 * (like `npm test`), run with its output kept in the run directory.
 */
export async function checkCompletion(o: {
  cwd: string;
  runDir: string;
  doneFile: string;
  verifyCommand: string | null;
  timeoutMs: number;
  env: NodeJS.ProcessEnv;
}): Promise<Completion> {
  const marker = fs.existsSync(path.resolve(o.cwd, o.doneFile));
  if (!o.verifyCommand) return { complete: marker, verified: false };
  const verify = await runVerify(o.verifyCommand, o);
  return { complete: marker || verify.exitCode === 0, verified: verify.exitCode === 0, verify };
}

function runVerify(
  command: string,
  o: { cwd: string; runDir: string; timeoutMs: number; env: NodeJS.ProcessEnv },
): Promise<{ exitCode: number; output: string }> {
  return new Promise((resolve) => {
    const log = fs.createWriteStream(path.join(o.runDir, 'verify.log'), { mode: 0o600 });
    let tail = '';
    const child = spawn('/bin/sh', ['-c', command], {
      cwd: o.cwd,
      env: o.env,
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: o.timeoutMs,
      killSignal: 'SIGKILL',
    });
    const take = (b: Buffer) => {
      log.write(b);
      tail = (tail + b.toString('utf8')).slice(-VERIFY_OUTPUT_LIMIT);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('error', (e) => take(Buffer.from(`verify could not start: ${e.message}\n`)));
    log.on('error', () => {});
    child.on('close', (code, signal) => {
      // Resolve once verify.log is complete on disk.
      log.end(() => resolve({ exitCode: code ?? (signal ? 128 + 9 : 1), output: tail }));
    });
  });
}

/** The last `bytes` of a file, as text (for the error summary). */
export function readTail(file: string, bytes: number): string {
  let fd: number | undefined;
  try {
    fd = fs.openSync(file, 'r');
    const size = fs.fstatSync(fd).size;
    const len = Math.min(size, bytes);
    const buf = Buffer.alloc(len);
    fs.readSync(fd, buf, 0, len, size - len);
    const text = buf.toString('utf8');
    return len < size ? text.slice(text.indexOf('\n') + 1) : text;
  } catch {
    return '';
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}
