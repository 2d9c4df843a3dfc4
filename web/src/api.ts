/** Talks to the board's own API: same origin, the token travels in its HttpOnly cookie. */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** The error's `details` (e.g. a merge conflict's files); empty when none. */
    readonly details: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The header the server requires on a write without a JSON body (REQUEST_HEADER in src/server/security.ts). */
export const REQUEST_HEADER = 'X-Agentboard-Request';

type Listener = () => void;
const authListeners = new Set<Listener>();

/** Called when the API answers 401: the page shows its login form. */
export function onUnauthorized(l: Listener): () => void {
  authListeners.add(l);
  return () => authListeners.delete(l);
}

export async function api<T>(
  path: string,
  init: RequestInit & { json?: unknown } = {},
): Promise<T> {
  const { json, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (json !== undefined) headers.set('content-type', 'application/json');
  // Every write carries the board's header, body or none: the server refuses
  // a write that a cross-site form could have sent (src/server/security.ts).
  const method = (rest.method ?? 'GET').toUpperCase();
  if (method !== 'GET' && method !== 'HEAD') headers.set(REQUEST_HEADER, '1');
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      ...rest,
      headers,
      credentials: 'same-origin',
      body: json !== undefined ? JSON.stringify(json) : rest.body,
    });
  } catch {
    throw new ApiError(
      0,
      'offline',
      'cannot reach the board server: is `agentboard serve` running?',
    );
  }
  if (res.status === 401) for (const l of authListeners) l();
  const text = await res.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  if (!res.ok) {
    const err = (
      body as {
        error?: { code?: string; message?: string; details?: Record<string, unknown> };
      } | null
    )?.error;
    throw new ApiError(
      res.status,
      err?.code ?? 'http_error',
      err?.message ?? `the server answered ${res.status} ${res.statusText}`,
      err?.details ?? {},
    );
  }
  return body as T;
}

/** Raw text (a log range) with its response headers. */
export async function apiText(path: string): Promise<{ text: string; headers: Headers }> {
  const res = await fetch(`/api/v1${path}`, { credentials: 'same-origin' });
  if (!res.ok) throw new ApiError(res.status, 'http_error', `the server answered ${res.status}`);
  return { text: await res.text(), headers: res.headers };
}

/**
 * Logs this browser in with a pasted API token: the server checks it and
 * keeps it in the board's HttpOnly cookie (which EventSource sends too, and
 * no script can read). A cookie the server set can only be replaced by the
 * server, so the page never writes it itself.
 */
export async function logIn(token: string): Promise<void> {
  await api<void>('/session', { method: 'POST', headers: { authorization: `Bearer ${token}` } });
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
