import type { FastifyReply, FastifyRequest } from 'fastify';
import { HttpError } from './error-catalog.js';
/**
 * Failed authentications, per client address: an address that sends a wrong
 * token `limit` times within `windowMs` is answered 429 for `windowMs`.
 *
 * What it must never do:
 * - **Lock out the owner.** It is consulted only for a token that failed: a
 *   right token passes whatever its address did before (on loopback, or
 *   behind one NAT, the owner shares an address with whoever is failing).
 * - **Be flushed.** Memory is bounded, but an attacker who fails from many
 *   addresses cannot evict the entries that matter:
 *   - addresses still counting (not blocked) live in an LRU of `maxCounting`;
 *     a flood only evicts other partial counts, never a block;
 *   - blocked addresses live in their own table of `maxBlocked`, kept until
 *     their block expires. Blocks all last `windowMs`, so insertion order is
 *     expiry order and pruning looks only at the front.
 *   - if that table is full of live blocks (an attack from more addresses
 *     than it holds), nothing is evicted: every address not in the table is
 *     treated as blocked until the attack's window has passed. A right token
 *     still passes, so this costs the owner nothing.
 */
export interface AuthLimiterOptions {
  /** Failures allowed per address per window (default 20). */
  limit?: number;
  /** Default one minute. */
  windowMs?: number;
  /** Addresses with failures but not (yet) blocked (default 10,000). */
  maxCounting?: number;
  /** Blocked addresses (default 10,000). */
  maxBlocked?: number;
}

export class AuthFailureLimiter {
  readonly limit: number;
  readonly windowMs: number;
  private readonly maxCounting: number;
  private readonly maxBlocked: number;
  /** address -> its failures since `since`; Map order is least recently failed first. */
  private readonly counting = new Map<string, { count: number; since: number }>();
  /** address -> blocked until (epoch ms); Map order is expiry order. */
  private readonly blocked = new Map<string, number>();
  /** The blocked table overflowed: every address outside it is blocked until then. */
  private saturatedUntil = 0;

  constructor(o: AuthLimiterOptions = {}) {
    this.limit = Math.max(1, o.limit ?? 20);
    this.windowMs = o.windowMs ?? 60_000;
    this.maxCounting = Math.max(1, o.maxCounting ?? 10_000);
    this.maxBlocked = Math.max(1, o.maxBlocked ?? 10_000);
  }

  /** Addresses held in memory (counting and blocked). */
  get size(): number {
    return this.counting.size + this.blocked.size;
  }

  /** Milliseconds until `address` may try again, or null if it is not blocked. */
  blockedFor(address: string, now: number): number | null {
    this.pruneBlocked(now);
    const until =
      this.blocked.get(address) ?? (now < this.saturatedUntil ? this.saturatedUntil : 0);
    return until > now ? until - now : null;
  }

  /** Records a failed authentication from `address`. */
  fail(address: string, now: number): void {
    if (this.blocked.has(address)) return;
    const prev = this.counting.get(address);
    this.counting.delete(address);
    const entry =
      prev && now - prev.since < this.windowMs
        ? { count: prev.count + 1, since: prev.since }
        : { count: 1, since: now };
    if (entry.count >= this.limit) {
      this.block(address, now);
      return;
    }
    this.counting.set(address, entry); // most recent last
    if (this.counting.size > this.maxCounting) {
      // Least recently failed first: never a blocked address (those are not in this table).
      const oldest = this.counting.keys().next().value;
      if (oldest !== undefined) this.counting.delete(oldest);
    }
  }

  private block(address: string, now: number): void {
    this.pruneBlocked(now);
    if (this.blocked.size >= this.maxBlocked) {
      this.saturatedUntil = now + this.windowMs;
      return;
    }
    this.blocked.set(address, now + this.windowMs);
  }

  private pruneBlocked(now: number): void {
    for (const [address, until] of this.blocked) {
      if (until > now) break;
      this.blocked.delete(address);
    }
  }
}

/**
 * A failed authentication from `req`: refused with 429 (and Retry-After)
 * while its address is blocked, otherwise counted. The caller then answers
 * its own 401. `retry` says what to do once the wait is over.
 */
export function countAuthFailure(
  limiter: AuthFailureLimiter,
  req: FastifyRequest,
  reply: FastifyReply,
  retry: string,
): void {
  const now = Date.now();
  const wait = limiter.blockedFor(req.ip, now);
  if (wait !== null) {
    reply.header('retry-after', String(Math.max(1, Math.ceil(wait / 1000))));
    throw new HttpError(
      'too_many_auth_failures',
      `too many failed authentications from this address: wait a minute, then ${retry}`,
    );
  }
  limiter.fail(req.ip, now);
}
