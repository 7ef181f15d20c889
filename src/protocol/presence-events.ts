import type { ClientEvent } from './ack.js';
import type { z } from 'zod';
import type { PresenceEvent, PresenceSubscribePayload, presenceSubscribeResultSchema } from './people.js';

/** Presence of the users a client shows; documented in docs/api/chat.md. */
export interface PresenceClientEvents {
  /** Replaces this socket's presence subscriptions; the ack carries their current state. */
  PRESENCE_SUBSCRIBE: ClientEvent<PresenceSubscribePayload, z.infer<typeof presenceSubscribeResultSchema>>;
}

export interface PresenceServerEvents {
  PRESENCE: (payload: PresenceEvent) => void;
}
