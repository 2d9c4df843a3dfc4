import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The API token for non-loopback serving. Only its SHA-256 is kept on disk,
 * so the token itself is shown once, when it is made; losing it means
 * rotating it.
 */
const HASH_FILE = 'api-token.sha256';

export function apiTokenFile(home: string): string {
  return path.join(home, HASH_FILE);
}

function hashOf(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function newToken(): string {
  return `abt_${randomBytes(32).toString('base64url')}`;
}

function writeHash(home: string, token: string, exclusive: boolean): boolean {
  fs.mkdirSync(home, { recursive: true });
  const file = apiTokenFile(home);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${hashOf(token).toString('hex')}\n`, { mode: 0o600 });
  try {
    if (!exclusive) {
      fs.renameSync(tmp, file);
      return true;
    }
    // link() fails if the file exists: two servers starting at once make one token.
    fs.linkSync(tmp, file);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw e;
  } finally {
    fs.rmSync(tmp, { force: true });
  }
}

/** Makes the token on first use. Returns it only when it was just made (the one time it is shown). */
export function ensureApiToken(home: string): string | null {
  if (fs.existsSync(apiTokenFile(home))) return null;
  const token = newToken();
  return writeHash(home, token, true) ? token : null;
}

/** Replaces the token; the old one stops working at once, even for a running server. */
export function rotateApiToken(home: string): string {
  const token = newToken();
  writeHash(home, token, false);
  return token;
}

/** Checks presented tokens against the file, re-reading it only when it changed. */
export function apiTokenVerifier(home: string): (presented: string) => boolean {
  const file = apiTokenFile(home);
  let cached: { ino: number; mtimeMs: number; hash: Buffer | null } | null = null;
  const current = (): Buffer | null => {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      return null;
    }
    if (!cached || cached.ino !== st.ino || cached.mtimeMs !== st.mtimeMs) {
      const hex = fs.readFileSync(file, 'utf8').trim();
      cached = {
        ino: st.ino,
        mtimeMs: st.mtimeMs,
        hash: /^[0-9a-f]{64}$/.test(hex) ? Buffer.from(hex, 'hex') : null,
      };
    }
    return cached.hash;
  };
  return (presented) => {
    const want = current();
    return want !== null && presented.length > 0 && timingSafeEqual(hashOf(presented), want);
  };
}
