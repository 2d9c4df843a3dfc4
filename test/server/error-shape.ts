/** The one error shape every non-2xx API answer has. Not a test file. */
import assert from 'node:assert/strict';
import type { LightMyRequestResponse } from 'fastify';
import { ERROR_CATALOG } from '../../src/server/error-catalog.js';

export interface ErrorAnswer {
  code: keyof typeof ERROR_CATALOG;
  message: string;
  details: Record<string, unknown>;
}

/**
 * Asserts `{error: {code, message, details}}` and nothing else: a catalog
 * code whose status is the answer's, a message, details an object; JSON
 * content; an Allow header on a 405.
 */
export function assertErrorShape(
  res: Pick<LightMyRequestResponse, 'statusCode' | 'headers' | 'body'>,
  where = '',
): ErrorAnswer {
  const at = `${where} -> ${res.statusCode} ${res.body.slice(0, 300)}`;
  assert.ok(res.statusCode >= 400, at);
  assert.match(String(res.headers['content-type']), /^application\/json/, at);
  let parsed: unknown;
  try {
    parsed = JSON.parse(res.body);
  } catch {
    assert.fail(`not JSON: ${at}`);
  }
  const body = parsed as { error?: Record<string, unknown> };
  assert.deepEqual(Object.keys(body), ['error'], at);
  const e = body.error as Record<string, unknown>;
  assert.deepEqual(Object.keys(e).sort(), ['code', 'details', 'message'], at);
  assert.ok(typeof e.code === 'string' && Object.hasOwn(ERROR_CATALOG, e.code), at);
  const code = e.code as keyof typeof ERROR_CATALOG;
  assert.equal(res.statusCode, ERROR_CATALOG[code].status, `status of ${code}: ${at}`);
  assert.ok(typeof e.message === 'string' && e.message.trim().length > 0, at);
  assert.ok(typeof e.details === 'object' && e.details !== null && !Array.isArray(e.details), at);
  if (res.statusCode === 405) assert.ok(res.headers.allow, `405 without Allow: ${at}`);
  return e as unknown as ErrorAnswer;
}
