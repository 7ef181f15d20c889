/**
 * The push outbox: what the push feature stores, in its own words. One row per push and device token;
 * a worker leases due rows, sends them to Expo, and checks Expo's receipts later. Adapters live in
 * src/storage/ (PostgreSQL, MongoDB).
 */

/** What a push is about; the app tells them apart by `data.type`. */
export type PushKind = 'message' | 'call' | 'call_ended' | 'missed_call';

/** Everything an Expo push message carries besides its recipient token and its TTL (expo-server-sdk's ExpoPushMessage). */
export interface PushContent {
  title?: string;
  body?: string;
  data: Record<string, unknown>;
  priority: 'default' | 'high';
  sound?: 'default';
  badge?: number;
  channelId?: string;
  categoryId?: string;
  /** Notifications with the same collapse id replace each other on the device (one per conversation). */
  collapseId?: string;
  /** iOS: wake the app in the background for a data-only push. */
  contentAvailable?: boolean;
}

export interface NewPush {
  userId: string;
  kind: PushKind;
  content: PushContent;
  /** Not sent before this: message pushes wait a moment, so a burst of messages becomes one push. */
  dueAt: Date;
  /** Never sent after this: a ring that arrives late is worse than none. */
  expiresAt: Date;
  /**
   * Unsent pushes of one token with the same key are one push: enqueueing again replaces its content
   * (the newest wins) and keeps its due time. Null: never merged.
   */
  coalesceKey: string | null;
}

/** A push leased to this worker, to send now. */
export interface DuePush {
  id: string;
  token: string;
  userId: string;
  kind: PushKind;
  content: PushContent;
  /** Sends tried before this one. */
  attempts: number;
  expiresAt: Date;
}

/** A push Expo accepted, leased to this worker to check its receipt. */
export interface SentPush {
  id: string;
  token: string;
  ticketId: string;
  /** When it was sent: a token registered again after this must not be removed for it. */
  sentAt: Date;
}

/**
 * A push goes to at most this many of its user's devices, the most recently registered: one event
 * never turns into an unbounded burst of pushes, however many sessions an account opens.
 */
export const MAX_DEVICES_PER_PUSH = 32;

export interface PushStore {
  /**
   * Queues `push` for every token of its user's live sessions (the MAX_DEVICES_PER_PUSH most recently
   * registered), coalescing per token and key; returns how many pushes were queued or merged.
   */
  enqueue(push: NewPush): Promise<number>;
  /**
   * `enqueue` for many pushes (a group message's members) at once, in one round trip. Pushes in one call
   * with the same user and coalesce key are one, as if enqueued one after another: the last one's content,
   * the first one's due time. Returns how many pushes (one per token) were queued or merged.
   */
  enqueueMany(pushes: readonly NewPush[]): Promise<number>;
  /**
   * Leases up to `limit` unsent pushes due by `now`, oldest due first, until `leaseUntil`. Two workers
   * (processes) never lease the same push at once; a lease that ran out (its worker died) is taken over.
   */
  claimDue(now: Date, leaseUntil: Date, limit: number): Promise<DuePush[]>;
  /** Expo accepted the push: its ticket is checked for a receipt at `receiptAt`. */
  markSent(id: string, ticketId: string, sentAt: Date, receiptAt: Date): Promise<void>;
  /** Sending failed for now: released, one more attempt counted, due again at `dueAt`. */
  retryAt(id: string, dueAt: Date): Promise<void>;
  /** Leases up to `limit` sent pushes whose receipt is due by `now`, until `leaseUntil`. */
  claimReceiptsDue(now: Date, leaseUntil: Date, limit: number): Promise<SentPush[]>;
  /** Its receipt is not ready yet: checked again at `receiptAt`. */
  checkReceiptAt(id: string, receiptAt: Date): Promise<void>;
  /** Done with a push: delivered, dropped (expired) or failed for good. */
  finish(id: string): Promise<void>;
  /**
   * Removes a token Expo reports as no longer registered, with its queued pushes, unless it was
   * registered again after `unlessRegisteredAfter` (a fresh registration must survive an old report).
   * True when it was removed.
   */
  removeToken(token: string, unlessRegisteredAfter: Date): Promise<boolean>;
}
