import { z } from 'zod';
import { idSchema, pageLimitSchema, type Timestamp } from './common.js';

/** How many users one socket may watch the presence of. */
export const MAX_PRESENCE_SUBSCRIPTIONS = 100;

export const peopleSearchQuery = z.object({
  query: z.string().trim().min(1, 'must not be empty').max(100),
  after: idSchema.optional(),
  limit: pageLimitSchema,
});

export const personParams = z.object({ id: idSchema });

export const presenceSubscribePayload = z.object({
  userIds: z.array(idSchema).max(MAX_PRESENCE_SUBSCRIPTIONS, `at most ${MAX_PRESENCE_SUBSCRIPTIONS} users`),
});

export type PresenceSubscribePayload = z.input<typeof presenceSubscribePayload>;

/** Another user as people see them: never an email or anything about the password. */
export interface PersonDto {
  id: string;
  name: string;
  online: boolean;
  /** When the user's last connection closed; null if never. */
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
