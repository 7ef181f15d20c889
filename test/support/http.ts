import { randomUUID } from 'node:crypto';
import type { AuthResponse } from '../../src/protocol/auth.js';

export interface HttpResult<T = any> {
  status: number;
  headers: Headers;
  body: T;
}

/** A thin fetch wrapper: JSON in, JSON out, status and headers kept for assertions. */
export async function request<T = any>(
  baseUrl: string,
  method: string,
  path: string,
  options: { body?: unknown; rawBody?: string; token?: string; headers?: Record<string, string> } = {},
): Promise<HttpResult<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  let body: string | undefined = options.rawBody;
  if (options.body !== undefined) body = JSON.stringify(options.body);
  if (body !== undefined) headers['content-type'] ??= 'application/json';
  const response = await fetch(`${baseUrl}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: (text ? parseJson(text, response.status) : undefined) as T };
}

function parseJson(text: string, status: number): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`expected a JSON body, got ${status}: ${text.slice(0, 500)}`);
  }
}

export function uniqueEmail(prefix = 'user'): string {
  return `${prefix}-${randomUUID()}@example.com`;
}

export const PASSWORD = 'correct horse battery';

/** Registers a fresh account and returns the register response (user and tokens). */
export async function registerUser(baseUrl: string, name = 'Test User'): Promise<AuthResponse & { email: string; password: string }> {
  const email = uniqueEmail(name.toLowerCase().replace(/\W+/g, '-'));
  const result = await request<AuthResponse>(baseUrl, 'POST', '/api/auth/register', { body: { email, password: PASSWORD, name } });
  if (result.status !== 201) throw new Error(`register failed: ${result.status} ${JSON.stringify(result.body)}`);
  return { ...result.body, email, password: PASSWORD };
}

/** Signs in and returns the login response; throws unless it is 200. */
export async function login(
  baseUrl: string,
  credentials: { email: string; password: string; deviceName?: string },
  headers: Record<string, string> = {},
): Promise<AuthResponse> {
  const result = await request<AuthResponse>(baseUrl, 'POST', '/api/auth/login', { body: credentials, headers });
  if (result.status !== 200) throw new Error(`login failed: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body;
}

/** Registers a fresh Expo push token for the session of `accessToken` and returns it. */
export async function registerPushToken(baseUrl: string, accessToken: string): Promise<string> {
  const token = `ExponentPushToken[${randomUUID()}]`;
  const result = await request(baseUrl, 'POST', '/api/auth/expo-push-token', { token: accessToken, body: { token } });
  if (result.status !== 200) throw new Error(`push token registration failed: ${result.status} ${JSON.stringify(result.body)}`);
  return token;
}
