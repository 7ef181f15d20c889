import { AsyncLocalStorage } from 'node:async_hooks';
import { Expo, type ExpoPushMessage, type ExpoPushReceipt, type ExpoPushTicket } from 'expo-server-sdk';
import { Agent, type Dispatcher } from 'undici';
import type { DuePush } from './push-store.js';

/**
 * What became of one push in a send: Expo's ticket, or the failure of the request that carried it, with how
 * long Expo asked us to wait (the Retry-After of a 429 or 503) when it did.
 */
export type SendResult =
  | { push: DuePush; ticket: ExpoPushTicket }
  | { push: DuePush; failure: unknown; retryAfterMs: number | undefined };

/** Expo's push service as the worker sees it. */
export interface PushSender {
  /** Sends `pushes` (any number: chunked here); one result per push, in order. Never throws. */
  send(pushes: DuePush[], now: Date): Promise<SendResult[]>;
  /** The receipts Expo has for these ticket ids (missing: not ready yet). Throws when a request fails. */
  receipts(ticketIds: string[]): Promise<Map<string, ExpoPushReceipt>>;
}

/**
 * expo-server-sdk retries a 429 twice within one send, waiting this long and then twice as long. The
 * worker owns the real backoff (exponential, with jitter, per push, and at least Expo's Retry-After, which the
 * SDK's own retries ignore), so the SDK's retries are kept short.
 */
const SDK_RETRY_MIN_TIMEOUT_MS = 250;

/** The one place the app talks to Expo. EXPO_BASE_URL (read by the SDK when it loads) points it elsewhere. */
export class ExpoPushClient implements PushSender {
  private readonly expo: Expo;

  constructor(options: { accessToken: string | undefined }) {
    this.expo = new Expo({
      accessToken: options.accessToken,
      retryMinTimeout: SDK_RETRY_MIN_TIMEOUT_MS,
      httpAgent: new Agent().compose(noteRetryAfter),
    });
  }

  /**
   * Chunks go one after another: the SDK queues requests beyond its concurrency limit, and a queued request
   * would run in another send's async context and note its Retry-After there.
   */
  async send(pushes: DuePush[], now: Date): Promise<SendResult[]> {
    const results: SendResult[] = [];
    for (const chunk of chunkLike(pushes, this.expo.chunkPushNotifications(pushes.map((push) => toMessage(push, now))))) {
      const answer: RetryAfter = { ms: undefined };
      try {
        const tickets = await retryAfterOfSend.run(answer, () => this.expo.sendPushNotificationsAsync(chunk.messages));
        results.push(...chunk.pushes.map((push, i) => ({ push, ticket: tickets[i]! })));
      } catch (failure) {
        results.push(...chunk.pushes.map((push) => ({ push, failure, retryAfterMs: answer.ms })));
      }
    }
    return results;
  }

  async receipts(ticketIds: string[]): Promise<Map<string, ExpoPushReceipt>> {
    const receipts = new Map<string, ExpoPushReceipt>();
    for (const chunk of this.expo.chunkPushNotificationReceiptIds(ticketIds)) {
      for (const [id, receipt] of Object.entries(await this.expo.getPushNotificationReceiptsAsync(chunk))) receipts.set(id, receipt);
    }
    return receipts;
  }
}

/**
 * Whether a failed send may succeed later: Expo throttling us (429), Expo failing (5xx), or no HTTP answer
 * at all (network). Anything else (400, 401, ...) will fail the same way again.
 */
export function isTransientSendFailure(failure: unknown): boolean {
  const statusCode = (failure as { statusCode?: unknown } | null)?.statusCode;
  return typeof statusCode !== 'number' || statusCode === 429 || statusCode >= 500;
}

/** The Retry-After of the last response to one send; the SDK's errors carry no response headers. */
interface RetryAfter {
  ms: number | undefined;
}

const retryAfterOfSend = new AsyncLocalStorage<RetryAfter>();

/** An undici interceptor: notes the Retry-After of each response to a send (none unless a 429 or 503). */
const noteRetryAfter: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (options, handler) => {
  const answer = retryAfterOfSend.getStore();
  if (answer === undefined) return dispatch(options, handler);
  return dispatch(options, {
    onRequestStart: (controller, context) => handler.onRequestStart?.(controller, context),
    onRequestUpgrade: (controller, statusCode, headers, socket) => handler.onRequestUpgrade?.(controller, statusCode, headers, socket),
    onResponseStart: (controller, statusCode, headers, statusMessage) => {
      answer.ms = statusCode === 429 || statusCode === 503 ? parseRetryAfter(headers['retry-after'], Date.now()) : undefined;
      handler.onResponseStart?.(controller, statusCode, headers, statusMessage);
    },
    onResponseData: (controller, chunk) => handler.onResponseData?.(controller, chunk),
    onResponseEnd: (controller, trailers) => handler.onResponseEnd?.(controller, trailers),
    onResponseError: (controller, error) => handler.onResponseError?.(controller, error),
  });
};

/** Retry-After in milliseconds from `now`: delay-seconds or an HTTP date (RFC 9110 10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  if (typeof value !== 'string') return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function toMessage(push: DuePush, now: Date): ExpoPushMessage {
  const { content } = push;
  return {
    to: push.token,
    title: content.title,
    body: content.body,
    data: content.data,
    priority: content.priority,
    sound: content.sound,
    badge: content.badge,
    channelId: content.channelId,
    categoryId: content.categoryId,
    collapseId: content.collapseId,
    _contentAvailable: content.contentAvailable,
    // Expo drops the push once this runs out, so a late ring is never shown.
    ttl: Math.max(0, Math.floor((push.expiresAt.getTime() - now.getTime()) / 1000)),
  };
}

/** Pairs the SDK's chunks of messages (one recipient each, so in order and one per push) with their pushes. */
function chunkLike(pushes: DuePush[], chunks: ExpoPushMessage[][]): { pushes: DuePush[]; messages: ExpoPushMessage[] }[] {
  let offset = 0;
  return chunks.map((messages) => {
    const chunk = { pushes: pushes.slice(offset, offset + messages.length), messages };
    offset += messages.length;
    return chunk;
  });
}
