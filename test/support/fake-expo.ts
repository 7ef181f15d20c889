import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import type { ExpoPushMessage } from 'expo-server-sdk';

/** One message Expo accepted (answered with a ticket, ok or error), per recipient token. */
export interface ReceivedPush extends Omit<ExpoPushMessage, 'to'> {
  to: string;
  receivedAt: Date;
  /** The receipt id of its ticket; undefined when the ticket was an error. */
  ticketId: string | undefined;
}

/** One request to /--/api/v2/push/send, whatever it was answered. */
export interface SendRequest {
  status: number;
  gzip: boolean;
  messages: number;
  authorization: string | undefined;
  receivedAt: Date;
}

export interface FailSendsOptions {
  /** Sent as the Retry-After header (delay-seconds) of each of these failures. */
  retryAfterSeconds?: number;
}

export interface FakeExpo {
  /** e.g. http://127.0.0.1:PORT, to pass as EXPO_BASE_URL. */
  url: string;
  /** Every message accepted by /--/api/v2/push/send, in order (requests answered with failSends' statuses are not here). */
  pushes: ReceivedPush[];
  /** The accepted pushes to one token, in order. */
  pushesTo(token: string): ReceivedPush[];
  /** Resolves with the first `count` pushes once that many arrived; rejects after `timeoutMs` (10 s by default). */
  waitForPushes(count: number, timeoutMs?: number): Promise<ReceivedPush[]>;
  /** The next sends answer these HTTP statuses, one per request (e.g. [429, 500]), with Expo's error body; replaces any not used yet ([] clears). */
  failSends(statuses: number[], options?: FailSendsOptions): void;
  /** Tickets for this token answer { status: 'error', details: { error } }. */
  ticketError(token: string, error: string): void;
  /** Receipts of pushes to this token answer that error. */
  receiptError(token: string, error: string): void;
  /** Ids asked for in each getReceipts call. */
  receiptRequests: string[][];
  /** Every send request, in order. */
  sendRequests: SendRequest[];
  close(): Promise<void>;
}

const SEND_PATH = '/--/api/v2/push/send';
const RECEIPTS_PATH = '/--/api/v2/push/getReceipts';

/** A stand-in for Expo's push HTTP API on loopback, speaking its request and response shapes. */
export async function startFakeExpo(): Promise<FakeExpo> {
  const pushes: ReceivedPush[] = [];
  const receiptRequests: string[][] = [];
  const sendRequests: SendRequest[] = [];
  const failures: { status: number; retryAfterSeconds: number | undefined }[] = [];
  const ticketErrors = new Map<string, string>();
  const receiptErrors = new Map<string, string>();
  /** Receipt id -> the token its push went to. */
  const tickets = new Map<string, string>();
  const waiters = new Set<() => void>();

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST' || (req.url !== SEND_PATH && req.url !== RECEIPTS_PATH)) {
      return reply(res, 404, { errors: [{ code: 'NOT_FOUND', message: `No route for ${req.method} ${req.url}` }] });
    }
    const gzip = req.headers['content-encoding'] === 'gzip';
    let body: unknown;
    try {
      const raw = Buffer.concat(await req.toArray());
      body = JSON.parse((gzip ? gunzipSync(raw) : raw).toString('utf8'));
    } catch {
      return reply(res, 400, { errors: [{ code: 'VALIDATION_ERROR', message: 'The request body is not valid JSON.' }] });
    }

    if (req.url === RECEIPTS_PATH) {
      const ids = (body as { ids?: unknown }).ids;
      if (!Array.isArray(ids) || !ids.every((id) => typeof id === 'string')) {
        return reply(res, 400, { errors: [{ code: 'VALIDATION_ERROR', message: '"ids" must be an array of strings.' }] });
      }
      receiptRequests.push(ids);
      const data: Record<string, unknown> = {};
      for (const id of ids) {
        const token = tickets.get(id);
        if (token === undefined) continue; // unknown or not ready: Expo leaves it out
        const error = receiptErrors.get(token);
        data[id] = error === undefined ? { status: 'ok' } : { status: 'error', message: `"${token}": ${error}`, details: { error } };
      }
      return reply(res, 200, { data });
    }

    const receivedAt = new Date();
    const messages = (Array.isArray(body) ? body : [body]) as ExpoPushMessage[];
    const sent = { gzip, messages: messages.length, authorization: req.headers.authorization, receivedAt };
    const failure = failures.shift();
    if (failure !== undefined) {
      const { status, retryAfterSeconds } = failure;
      sendRequests.push({ status, ...sent });
      const code = status === 429 ? 'RATE_LIMIT_EXCEEDED' : 'INTERNAL_SERVER_ERROR';
      const headers: Record<string, string> = retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) };
      return reply(res, status, { errors: [{ code, message: `Fake Expo answered ${status}.` }] }, headers);
    }
    if (messages.some((message) => message === null || typeof message !== 'object' || message.to === undefined)) {
      sendRequests.push({ status: 400, ...sent });
      return reply(res, 400, { errors: [{ code: 'VALIDATION_ERROR', message: 'Every message needs a "to".' }] });
    }
    sendRequests.push({ status: 200, ...sent });
    const data: unknown[] = [];
    for (const message of messages) {
      for (const to of Array.isArray(message.to) ? message.to : [message.to]) {
        const error = ticketErrors.get(to);
        const ticketId = error === undefined ? randomUUID() : undefined;
        if (ticketId === undefined) {
          data.push({ status: 'error', message: `"${to}": ${error}`, details: { error, expoPushToken: to } });
        } else {
          tickets.set(ticketId, to);
          data.push({ status: 'ok', id: ticketId });
        }
        pushes.push({ ...message, to, receivedAt, ticketId });
      }
    }
    for (const wake of waiters) wake();
    return reply(res, 200, { data });
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => reply(res, 500, { errors: [{ code: 'INTERNAL_SERVER_ERROR', message: String(error) }] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    pushes,
    receiptRequests,
    sendRequests,
    pushesTo: (token) => pushes.filter((push) => push.to === token),
    waitForPushes(count, timeoutMs = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (pushes.length < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(pushes.slice(0, count));
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`fake Expo: expected ${count} pushes within ${timeoutMs} ms, got ${pushes.length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    failSends(statuses, { retryAfterSeconds } = {}) {
      failures.splice(0, failures.length, ...statuses.map((status) => ({ status, retryAfterSeconds })));
    },
    ticketError(token, error) {
      ticketErrors.set(token, error);
    },
    receiptError(token, error) {
      receiptErrors.set(token, error);
    },
    close() {
      return new Promise((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

function reply(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const json = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(json) });
  res.end(json);
}
