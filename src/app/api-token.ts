import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PRIVATE_DIR, PRIVATE_FILE } from '../config/home.js';

/**
 * The board owner's API token. It is kept in clear in the home, mode 0600
 * in a 0700 folder, so the owner's own commands (`agentboard open`,
 * `agentboard token show`) can use it with nothing to type: whoever can
 * read the home can read the database anyway. Servers compare tokens by
 * hash, in constant time.
 */
const TOKEN_FILE = 'api-token';
/** Where older versions kept only the token's SHA-256: the token itself was shown once, then lost. */
const LEGACY_HASH_FILE = 'api-token.sha256';
const TOKEN_SHAPE = /^abt_[A-Za-z0-9_-]{40,}$/;

export function apiTokenFile(home: string): string {
  return path.join(home, TOKEN_FILE);
}

function hashOf(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

function newToken(): string {
  return `abt_${randomBytes(32).toString('base64url')}`;
}

/** Writes the token 0600 beside its final name, then moves it in; exclusive: only if none exists yet. */
function writeToken(home: string, token: string, exclusive: boolean): boolean {
  fs.mkdirSync(home, { recursive: true, mode: PRIVATE_DIR });
  const file = apiTokenFile(home);
  const tmp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, `${token}\n`, { mode: PRIVATE_FILE, flag: 'wx' });
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

/** The owner token, or null when the home has none (no server has started on it yet). */
export function readApiToken(home: string): string | null {
  let text: string;
  try {
    text = fs.readFileSync(apiTokenFile(home), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
  const token = text.trim();
  return TOKEN_SHAPE.test(token) ? token : null;
}

export interface EnsuredToken {
  token: string;
  /**
   * The home held only an older version's hash of a token, which no command
   * can send: a new token replaced it, and the hash file was removed.
   */
  replacedHash: boolean;
}

/**
 * The owner token, made on first use. An unreadable or malformed file is
 * replaced, as is an older version's hash-only file (its token was shown
 * once and cannot be read back).
 */
export function ensureApiToken(home: string): EnsuredToken {
  const existing = readApiToken(home);
  const legacy = path.join(home, LEGACY_HASH_FILE);
  const hadHash = fs.existsSync(legacy);
  if (existing) {
    if (hadHash) fs.rmSync(legacy, { force: true });
    return { token: existing, replacedHash: false };
  }
  const made = newToken();
  const fresh = fs.existsSync(apiTokenFile(home))
    ? writeToken(home, made, false) // there, but not a token: replace it
    : writeToken(home, made, true);
  // Lost the race to another server starting at the same time: use the token it made.
  const token = fresh ? made : readApiToken(home);
  if (!token) return ensureApiToken(home);
  if (hadHash) fs.rmSync(legacy, { force: true });
  return { token, replacedHash: fresh && hadHash };
}

/** Replaces the token; the old one stops working at once, even for a running server. */
export function rotateApiToken(home: string): string {
  const token = newToken();
  writeToken(home, token, false);
  fs.rmSync(path.join(home, LEGACY_HASH_FILE), { force: true });
  return token;
}

/** Checks presented tokens against the file, re-reading it only when it changed (a rotation). */
export function apiTokenVerifier(home: string): (presented: string) => boolean {
  const file = apiTokenFile(home);
  let cached: { key: string; hash: Buffer | null } | null = null;
  const current = (): Buffer | null => {
    let st: fs.Stats;
    try {
      st = fs.statSync(file);
    } catch {
      return null;
    }
    // A rotation renames a new file in (a new inode); an edit or chmod changes the times.
    const key = `${st.ino}:${st.mtimeMs}:${st.ctimeMs}:${st.size}`;
    if (cached?.key !== key) {
      let token: string | null;
      try {
        token = readApiToken(path.dirname(file));
      } catch {
        token = null; // unreadable: nothing passes until it is fixed or rotated
      }
      cached = { key, hash: token ? hashOf(token) : null };
    }
    return cached.hash;
  };
  return (presented) => {
    const want = current();
    return want !== null && presented.length > 0 && timingSafeEqual(hashOf(presented), want);
  };
}
