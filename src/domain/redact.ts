/**
 * Secret redaction. A secret is masked with as many `*` as it has bytes, so a
 * redacted log keeps its length: byte offsets and ranges stay valid.
 */

/** Shapes of well-known credentials, masked even when we were not told the value. */
const CREDENTIAL_SHAPES: readonly RegExp[] = [
  /sk-ant-[A-Za-z0-9_-]{16,}/g,
  /sk-(?:proj-)?[A-Za-z0-9_-]{20,}/g,
  /gh[pousr]_[A-Za-z0-9]{30,}/g,
  /github_pat_[A-Za-z0-9_]{30,}/g,
  /AIza[0-9A-Za-z_-]{35}/g,
  /xox[abprs]-[A-Za-z0-9-]{10,}/g,
  /AKIA[0-9A-Z]{16}/g,
  /(?<=Bearer\s{1,4})[A-Za-z0-9._~+/-]{16,}=*/g,
];

const WHITESPACE = new Set([0x20, 0x09, 0x0a, 0x0d]);

/** Values shorter than this are not treated as secrets: masking "1" would mangle every log. */
export const MIN_SECRET_LENGTH = 8;

export interface Redactor {
  text(s: string): string;
  /** Same length in, same length out. */
  bytes(b: Buffer): Buffer;
  /** Every string inside a JSON-like value, redacted; other values untouched. */
  value<T>(v: T): T;
  /** The longest literal secret in bytes: how far a chunk boundary can cut one. */
  readonly overlap: number;
  /**
   * How many trailing bytes of a growing log might be a secret still being
   * written: the trailing run without whitespace, at most `overlap`. A log
   * that ends a line can be shown at once.
   */
  holdback(b: Buffer): number;
}

export function createRedactor(secrets: Iterable<string>): Redactor {
  const literals = [...new Set([...secrets].filter((s) => s.length >= MIN_SECRET_LENGTH))].sort(
    (a, b) => b.length - a.length,
  );
  // Byte view of each secret as latin1 text, so buffers can be searched as 1 char = 1 byte.
  const latin1 = literals.map((s) => Buffer.from(s, 'utf8').toString('latin1'));
  const mask = (m: string) => '*'.repeat(m.length);
  const maskAll = (s: string, list: readonly string[]) => {
    let out = s;
    for (const lit of list) if (out.includes(lit)) out = out.split(lit).join(mask(lit));
    for (const re of CREDENTIAL_SHAPES) out = out.replace(re, mask);
    return out;
  };
  const text = (s: string) => maskAll(s, literals);
  const value = <T>(v: T): T => {
    if (typeof v === 'string') return text(v) as T;
    if (Array.isArray(v)) return v.map(value) as T;
    if (v && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = value(x);
      return out as T;
    }
    return v;
  };
  const overlap = Math.max(64, ...latin1.map((s) => s.length));
  return {
    text,
    bytes: (b) => Buffer.from(maskAll(b.toString('latin1'), latin1), 'latin1'),
    value,
    overlap,
    holdback: (b) => {
      let n = 0;
      while (n < overlap && n < b.length && !WHITESPACE.has(b[b.length - 1 - n] as number)) n++;
      return n;
    },
  };
}

/** Environment variable names whose values are credentials. */
export function isSecretName(name: string): boolean {
  return /(^|_)(API_?KEY|KEY|TOKEN|SECRET|PASSWORD|PASSWD|PASS|CREDENTIALS?|AUTH_TOKEN)($|_)/i.test(
    name,
  );
}

/**
 * Redacts a byte stream chunk by chunk: a secret cut by a chunk boundary is
 * still masked, because a possible secret in progress is held back until the
 * next chunk (or the end) shows how it ends. Output bytes equal input bytes
 * in number and order.
 */
export function streamRedactor(r: Redactor): { push(chunk: Buffer): Buffer; end(): Buffer } {
  let context: Buffer = Buffer.alloc(0);
  let pending: Buffer = Buffer.alloc(0);
  const emit = (final: boolean): Buffer => {
    const n = pending.length - (final ? 0 : r.holdback(pending));
    if (n <= 0) return Buffer.alloc(0);
    const masked = r.bytes(Buffer.concat([context, pending]));
    const out = masked.subarray(context.length, context.length + n);
    context = Buffer.concat([context, pending.subarray(0, n)]).subarray(-r.overlap);
    pending = pending.subarray(n);
    return out;
  };
  return {
    push(chunk) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      return emit(false);
    },
    end: () => emit(true),
  };
}
