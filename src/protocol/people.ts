import { z } from 'zod';
import { idSchema, pageLimitSchema, textSchema, type Timestamp } from './common.js';

/** How many users one socket may watch the presence of. */
export const MAX_PRESENCE_SUBSCRIPTIONS = 100;

export const peopleSearchQuery = z.object({
  query: textSchema.trim().min(1, 'must not be empty').max(100),
  after: idSchema.optional(),
  limit: pageLimitSchema,
});

export const personParams = z.object({ id: idSchema });

export const presenceSubscribePayload = z.object({
  userIds: z.array(idSchema).max(MAX_PRESENCE_SUBSCRIPTIONS, `at most ${MAX_PRESENCE_SUBSCRIPTIONS} users`),
});

export type PresenceSubscribePayload = z.input<typeof presenceSubscribePayload>;

/**
 * Another user as people see them: never an email or anything about the password. Presence (`online`,
 * `lastSeenAt`) only for contacts, people who have sent the viewer a message: for anyone else both are
 * null, meaning "not visible to you", never a made-up "offline".
 */
export interface PersonDto {
  id: string;
  name: string;
  /** Whether the user has a connected device now; null when their presence is not visible to the viewer. */
  online: boolean | null;
  /** When the user's last connection closed; null if never, or when their presence is not visible. */
  lastSeenAt: Timestamp | null;
}

export interface PresenceEvent {
  userId: string;
  online: boolean;
  lastSeenAt: Timestamp | null;
}

export interface PeopleSearchResponse {
  users: PersonDto[];
  nextCursor: string | null;
}
