import { z } from 'zod';
import { sessionSchema, USER_STATUSES, userSchema } from './auth.js';
import { idSchema, nextCursorSchema, pageLimitSchema, textSchema, timestampSchema } from './common.js';

export const adminUserParams = z.object({ id: idSchema });

export const adminUpdateUserBody = z
  .object({
    status: z.enum(['active', 'banned', 'deleted']).optional(),
    role: z.enum(['user', 'admin']).optional(),
  })
  .refine((body) => body.status !== undefined || body.role !== undefined, 'give status, role or both');

export const adminUsersQuery = z.object({
  query: textSchema.trim().max(100).optional().meta({ description: 'A prefix of the name or of the email (case-insensitive); empty or absent lists everyone.' }),
  status: z.enum(USER_STATUSES).optional(),
  after: idSchema.optional(),
  limit: pageLimitSchema,
});

/** An account as admins see it: the user, when it was last connected, and whether it is now. */
export const adminUserSchema = userSchema.extend({
  lastSeenAt: timestampSchema.nullable().meta({ description: "When the user's last connection closed; null if never." }),
  online: z.boolean().meta({ description: 'Whether the user has a connected socket now (on any process).' }),
});

export const adminUsersResponseSchema = z.object({ users: z.array(adminUserSchema), nextCursor: nextCursorSchema });

export const adminSessionSchema = sessionSchema.omit({ expiresAt: true, current: true });

export const adminUserDetailResponseSchema = z.object({ user: adminUserSchema, sessions: z.array(adminSessionSchema) });

const count = (description: string) => z.int().min(0).meta({ description });

export const liveFiguresResponseSchema = z.object({
  connectedUsers: count('Users with at least one connected socket, on every process.'),
  connectedSockets: count('Sockets connected to the process that answered (each process counts its own).'),
  callsInProgress: count('1:1 calls ringing or under way, on every process.'),
  groupCallsInProgress: count('Group calls ringing or under way, on every process.'),
  messagesPerMinute: count('Messages stored in the last 60 seconds.'),
});

export type AdminUsersQuery = z.output<typeof adminUsersQuery>;
export type AdminUserDto = z.infer<typeof adminUserSchema>;
export type AdminUsersResponse = z.infer<typeof adminUsersResponseSchema>;
export type AdminSessionDto = z.infer<typeof adminSessionSchema>;
export type AdminUserDetailResponse = z.infer<typeof adminUserDetailResponseSchema>;
export type LiveFiguresResponse = z.infer<typeof liveFiguresResponseSchema>;
