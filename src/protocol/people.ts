import { z } from 'zod';
import { idSchema, nextCursorSchema, pageLimitSchema, textSchema, timestampSchema, wireIdSchema } from './common.js';

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
export const personSchema = z.object({
  id: wireIdSchema,
  name: z.string(),
  online: z.boolean().nullable().meta({ description: 'Whether the user has a connected device now; null when their presence is not visible to the viewer.' }),
  lastSeenAt: timestampSchema.nullable().meta({ description: "When the user's last connection closed; null if never, or when their presence is not visible." }),
});

export const presenceEventSchema = z.object({
  userId: wireIdSchema,
  online: z.boolean(),
  lastSeenAt: timestampSchema.nullable(),
});

export const peopleSearchResponseSchema = z.object({ users: z.array(personSchema), nextCursor: nextCursorSchema });

export const personResponseSchema = z.object({ user: personSchema });

export const presenceSubscribeResultSchema = z.object({ presence: z.array(presenceEventSchema) });

export type PersonDto = z.infer<typeof personSchema>;
export type PresenceEvent = z.infer<typeof presenceEventSchema>;
export type PeopleSearchResponse = z.infer<typeof peopleSearchResponseSchema>;
