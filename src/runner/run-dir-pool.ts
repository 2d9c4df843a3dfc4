/**
 * Run directories made ahead of time, so that starting an agent does not
 * wait for its files to be created. Creating a file is cheap on most disks,
 * but not on all: on the 2-core VM this was built on, ext4 spent 0.7–1.0 ms
 * of CPU per new inode, and a run needs six (its directory, stdout.log,
 * stderr.log, prompt.md, shim.pid, exit.json). A rename costs ~30 µs there.
 *
 * A spare is a directory under `runs/.spares/` holding those files, empty.
 * Taking one renames it to the run's directory; whoever's rename succeeds
 * owns it, so helpers (and leftovers from a previous process) share the
 * spares safely. Empty files read as "not written yet" everywhere: an empty
 * exit.json does not parse, an empty shim.pid names no pid.
 */
import { closeSync, mkdirSync, openSync, readdirSync, renameSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { RUN_DIR_MODE, RUN_FILE_MODE } from './supervisor.js';

export const SPARES_DIR = '.spares';
const FILES = ['stdout.log', 'stderr.log', 'prompt.md', 'shim.pid', 'exit.json'];
/** After the last launch, how long the helper waits before making spares (launches first). */
const IDLE_MS = 2;

export class RunDirPool {
  private readonly dir: string;
  private readonly spares: string[] = [];
  private made = 0;
  private timer: NodeJS.Timeout | null = null;
  /** The spare being made, file by file: [path, files done]. */
  private making: [string, number] | null = null;

  constructor(
    runsDir: string,
    private readonly size: number,
  ) {
    this.dir = join(runsDir, SPARES_DIR);
    try {
      for (const name of readdirSync(this.dir)) {
        const spare = join(this.dir, name);
        if (isPrivate(spare)) this.spares.push(spare);
      }
    } catch {
      // none yet
    }
  }

  /**
   * Moves a spare into place as `runDir`. false when there is none left, or
   * `runDir` already has content: the caller then creates what it needs.
   */
  take(runDir: string): boolean {
    for (let spare = this.spares.pop(); spare !== undefined; spare = this.spares.pop()) {
      try {
        renameSync(spare, runDir);
        return true;
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') continue; // taken by another helper, or half-made by a dead one
        this.spares.push(spare);
        return false;
      }
    }
    return false;
  }

  /** Tops the pool up once the helper has been idle for a moment, one file per turn of the loop. */
  refill(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.step();
    }, IDLE_MS);
    this.timer.unref();
  }

  private step(): void {
    if (this.timer || (this.making === null && this.spares.length >= this.size)) return;
    try {
      if (this.making === null) {
        const spare = join(this.dir, `${process.pid}-${++this.made}`);
        mkdirSync(spare, { recursive: true, mode: RUN_DIR_MODE });
        this.making = [spare, 0];
      } else {
        const [spare, done] = this.making;
        closeSync(openSync(join(spare, FILES[done] as string), 'a', RUN_FILE_MODE));
        if (done + 1 < FILES.length) this.making = [spare, done + 1];
        else {
          this.making = null;
          this.spares.push(spare);
        }
      }
    } catch {
      this.making = null;
      return; // a full or read-only disk: launches create their files themselves
    }
    setImmediate(() => this.step());
  }
}

/**
 * A spare left by an older version may be 0755 with 0644 files: it is not
 * taken (a run directory is 0700, its files 0600), and stays for gc.
 */
function isPrivate(spare: string): boolean {
  try {
    return (statSync(spare).mode & 0o077) === 0;
  } catch {
    return false;
  }
}
