import assert from 'node:assert/strict';
import type { ErrorBody, ErrorCode } from '../../src/protocol/errors.js';
import type { HttpResult } from './http.js';

/**
 * Asserts the contract's error answer: the status, a JSON `{ error: { code, message, details? } }` body
 * and nothing else in it. Returns the error for further checks.
 */
export function assertError(result: HttpResult, status: number, code: ErrorCode): ErrorBody {
  const seen = `${result.status} ${JSON.stringify(result.body)}`;
  assert.equal(result.status, status, `expected ${status} ${code}, got ${seen}`);
  assert.match(result.headers.get('content-type') ?? '', /^application\/json/, `not JSON: ${seen}`);
  assert.deepEqual(Object.keys(result.body ?? {}), ['error'], `not the error shape: ${seen}`);
  const error = result.body.error as ErrorBody;
  assert.equal(error.code, code, `expected ${code}, got ${seen}`);
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0);
  const fields = code === 'RATE_LIMITED' ? ['code', 'message', 'details', 'retryAfterSeconds'] : ['code', 'message', 'details'];
  for (const key of Object.keys(error)) assert.ok(fields.includes(key), `unexpected error field ${key}`);
  return error;
}

/** Asserts a VALIDATION_FAILED answer whose details name every one of `paths` (e.g. 'body.email'). */
export function assertValidationFailed(result: HttpResult, ...paths: string[]): void {
  const error = assertError(result, 400, 'VALIDATION_FAILED');
  const named = (error.details ?? []).map((detail) => detail.path);
  for (const detail of error.details ?? []) assert.equal(typeof detail.message, 'string');
  for (const path of paths) assert.ok(named.includes(path), `details should name ${path}; they name ${JSON.stringify(named)}`);
}

/** A number of whole seconds > 0 in Retry-After, as RATE_LIMITED answers carry. */
export function assertRetryAfter(result: HttpResult): number {
  const value = result.headers.get('retry-after');
  assert.match(value ?? '', /^\d+$/, `Retry-After should be whole seconds, got ${value}`);
  const seconds = Number(value);
  assert.ok(seconds > 0, `Retry-After should be > 0, got ${seconds}`);
  assert.equal(result.body?.error?.retryAfterSeconds, seconds, 'the body repeats Retry-After');
  return seconds;
}
