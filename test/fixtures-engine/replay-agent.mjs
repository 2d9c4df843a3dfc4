#!/usr/bin/env node
// A scripted agent CLI: replays recorded output. Invocation N (counted in
// $REPLAY_DIR/count) prints N.stdout and N.stderr (falling back to the last
// one given) and exits with N.code. `--version` prints $REPLAY_VERSION.
// Each invocation's argv is appended to $REPLAY_DIR/argv.log.
import fs from 'node:fs';
import path from 'node:path';

const dir = process.env.REPLAY_DIR;
if (process.argv.includes('--version')) {
  process.stdout.write(`${process.env.REPLAY_VERSION ?? '0.0.0'}\n`);
  process.exit(0);
}
const countFile = path.join(dir, 'count');
const n = Number(fs.existsSync(countFile) ? fs.readFileSync(countFile, 'utf8') : 0) + 1;
fs.writeFileSync(countFile, String(n));
fs.appendFileSync(path.join(dir, 'argv.log'), `${JSON.stringify(process.argv.slice(2))}\n`);
const pick = (ext) => {
  for (let i = n; i >= 1; i--) {
    const f = path.join(dir, `${i}.${ext}`);
    if (fs.existsSync(f)) return fs.readFileSync(f, 'utf8');
  }
  return null;
};
process.stdout.write(pick('stdout') ?? '');
process.stderr.write(pick('stderr') ?? '');
process.exitCode = Number(pick('code') ?? 0);
