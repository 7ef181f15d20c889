import type { Config } from '../config/config.js';
import type { ClientToServerEvents } from '../protocol/events.js';
import type { RateLimit, RateLimitSettings } from '../shared/rate-limit.js';

export type ClientEventName = keyof ClientToServerEvents;

/**
 * Every client event's per-user budget (all of a user's devices together), spent before the payload is
 * even validated. The type makes an event without a budget a compile error.
 */
export type EventBudgets = Record<ClientEventName, RateLimit>;

/** A client re-authenticates each connection once per access-token lifetime; this is ample for ten devices. */
const REAUTHENTICATIONS_PER_MINUTE = 30;

export function createEventBudgets(config: Config, budget: (settings: RateLimitSettings, what: string) => RateLimit): EventBudgets {
  const chat = (points: number, what: string) => budget({ points, windowSeconds: config.chat.rateWindowSeconds }, what);
  const perMinute = (points: number, what: string) => budget({ points, windowSeconds: 60 }, what);
  const typing = chat(config.chat.typingPerWindow, 'typing events');
  const receipts = chat(config.chat.receiptsPerWindow, 'receipts');
  const changes = chat(config.chat.changesPerWindow, 'edits and deletes');
  const signaling = perMinute(config.calls.signalingPerMinute, 'call events');
  return {
    AUTHENTICATE: perMinute(REAUTHENTICATIONS_PER_MINUTE, 're-authentications'),
    CHAT_MESSAGE: chat(config.chat.messagesPerWindow, 'messages'),
    CHAT_TYPING: typing,
    CHAT_STOP_TYPING: typing,
    MESSAGE_READ: receipts,
    MESSAGE_DELIVERED: receipts,
    MESSAGE_EDIT: changes,
    MESSAGE_DELETE: changes,
    MESSAGE_REACTION: chat(config.chat.reactionsPerWindow, 'reactions'),
    PRESENCE_SUBSCRIBE: perMinute(config.chat.presenceSubscribesPerMinute, 'presence subscriptions'),
    CALL_REQUEST: perMinute(config.calls.requestsPerMinute, 'call requests'),
    CALL_ACCEPT: signaling,
    CALL_REJECT: signaling,
    CALL_BUSY: signaling,
    CALL_ENDED: signaling,
    ICE_CANDIDATE: signaling,
    CALL_SIGNAL: signaling,
    CALL_JOIN: perMinute(config.groupCalls.joinsPerMinute, 'call joins'),
    CALL_PARTICIPANTS: signaling,
    CALL_PARTICIPANT_STATE: signaling,
    CALL_STATS: perMinute(config.callQuality.statsPerMinute, 'call quality reports'),
  };
}
