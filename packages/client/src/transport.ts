import { ApiError, ConnectionError } from './errors.js';
import type { ErrorResponse } from './protocol.js';

export type Query = Record<string, string | number | undefined>;

export interface RequestOptions {
  method?: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  body?: unknown;
  query?: Query;
  accessToken?: string;
}

/** Which fetch to use: the platform's by default (browsers, React Native, Node 20). */
export type Fetch = (input: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<FetchResponse>;

/** The part of a fetch Response this client reads. */
export interface FetchResponse {
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/** One HTTP request to the server: JSON in, JSON out, every refusal an ApiError with the contract's code. */
export class Transport {
  constructor(
    readonly baseUrl: string,
    private readonly fetchImpl: Fetch = (input, init) => globalThis.fetch(input, init),
  ) {}

  async request<T>(path: string, options: RequestOptions = {}): Promise<T> {
    const method = options.method ?? 'GET';
    const headers: Record<string, string> = { accept: 'application/json' };
    if (options.accessToken) headers['authorization'] = `Bearer ${options.accessToken}`;
    let body: string | undefined;
    if (options.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.body);
    }
    let response: FetchResponse;
    try {
      response = await this.fetchImpl(this.url(path, options.query), { method, headers, ...(body === undefined ? {} : { body }) });
    } catch (error) {
      throw new ConnectionError(`${method} ${path}: no answer from the server`, { cause: error });
    }
    const text = await response.text().catch(() => '');
    const json = parseJson(text);
    if (response.ok) return json as T;
    throw toApiError(json, response);
  }

  private url(path: string, query: Query | undefined): string {
    const search = Object.entries(query ?? {})
      .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
      .map(([key, value]) => `${encodeURIComponent(key)}=${encodeURIComponent(String(value))}`)
      .join('&');
    return `${this.baseUrl.replace(/\/$/, '')}${path}${search ? `?${search}` : ''}`;
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The contract's error body; a body that is not one (a proxy's page) maps by status. */
function toApiError(json: unknown, response: FetchResponse): ApiError {
  const error = (json as Partial<ErrorResponse> | undefined)?.error;
  if (error && typeof error.code === 'string' && typeof error.message === 'string') {
    const header = Number(response.headers.get('retry-after'));
    const retryAfterSeconds = error.retryAfterSeconds ?? (Number.isFinite(header) && header > 0 ? header : undefined);
    return new ApiError({ ...error, ...(retryAfterSeconds === undefined ? {} : { retryAfterSeconds }) }, response.status);
  }
  const code = response.status === 429 ? 'RATE_LIMITED' : response.status >= 500 ? (response.status === 503 ? 'UNAVAILABLE' : 'INTERNAL') : 'NOT_FOUND';
  return new ApiError({ code, message: `HTTP ${response.status}` }, response.status);
}
