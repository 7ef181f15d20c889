import { z } from 'zod';
import { USER_ROLES, USER_STATUSES } from './auth.js';
import { idSchema, nextCursorSchema, pageLimitSchema, timestampSchema, wireIdSchema } from './common.js';

/** The audit log, for admins (docs/api/auth.md, "Audit log"). */

/**
 * Why a login failed, as admins see it (the client gets the same INVALID_CREDENTIALS for the first
 * three). The email typed for an unknown account is not kept: it is no one's data, and may be a
 * password typed in the wrong field.
 */
export const LOGIN_FAILURE_REASONS = ['unknown_account', 'wrong_password', 'account_deleted', 'account_banned'] as const;
export type LoginFailureReason = (typeof LOGIN_FAILURE_REASONS)[number];

const entryBase = z.object({
  id: wireIdSchema,
  at: timestampSchema,
  actorId: wireIdSchema.nullable().meta({ description: 'Who did it: null when unknown (a presented refresh token, a failed login) or an operator on the command line.' }),
  targetUserId: wireIdSchema.nullable().meta({ description: 'The account it concerns: null for a failed login of an unknown account.' }),
  ip: z.string().nullable().meta({ description: 'The address the request came from (see TRUST_PROXY); null from the command line.' }),
  userAgent: z.string().nullable().meta({ description: "The request's User-Agent, at most 300 characters." }),
});

const entry = <T extends string, D extends z.ZodType>(type: T, details: D) => entryBase.extend({ type: z.literal(type), details });

const sessionDetails = z.object({ sessionId: wireIdSchema });

/** One entry per audited action; its details hold ids and states only, never a token, password or message. */
export const auditEntrySchema = z.discriminatedUnion('type', [
  entry('login.succeeded', sessionDetails.meta({ description: 'The session the login started.' })),
  entry('login.failed', z.object({ reason: z.enum(LOGIN_FAILURE_REASONS) })),
  entry('refresh_token.reused', sessionDetails.meta({ description: 'The session revoked because one of its rotated refresh tokens was presented again.' })),
  entry('session.logged_out', sessionDetails),
  entry(
    'session.revoked',
    z.discriminatedUnion('reason', [
      z.object({ reason: z.literal('revoked_by_user'), sessionId: wireIdSchema }),
      z.object({ reason: z.literal('logout_all'), count: z.int().min(0).meta({ description: 'How many other sessions were ended.' }) }),
    ]),
  ),
  entry('user.status_changed', z.object({ from: z.enum(USER_STATUSES), to: z.enum(USER_STATUSES), sessionsRevoked: z.int().min(0) })),
  entry('user.role_changed', z.object({ from: z.enum(USER_ROLES), to: z.enum(USER_ROLES) })),
  entry('push_token.added', sessionDetails.meta({ description: 'The session the token now belongs to.' })),
  entry('push_token.removed', z.object({ sessionId: wireIdSchema.nullable().meta({ description: 'The session that held the token.' }) })),
  entry('group.owner_changed', z.object({ conversationId: wireIdSchema, previousOwnerId: wireIdSchema }).meta({ description: 'The owner left; targetUserId is the new owner.' })),
]);

export type AuditEntryDto = z.infer<typeof auditEntrySchema>;
export type AuditType = AuditEntryDto['type'];
export type AuditDetails<T extends AuditType> = Extract<AuditEntryDto, { type: T }>['details'];

export const AUDIT_TYPES = auditEntrySchema.options.map((option) => option.shape.type.value) as [AuditType, ...AuditType[]];

/** `?type=login.failed`, `?type=login.failed,login.succeeded` or the parameter repeated. */
const typeList = z
  .union([z.string(), z.array(z.string())])
  .transform((value) => (Array.isArray(value) ? value : [value]).flatMap((item) => item.split(',')).map((item) => item.trim()))
  .pipe(z.array(z.enum(AUDIT_TYPES, { message: `must be one or more of ${AUDIT_TYPES.join(', ')}` })));

const instant = z.iso.datetime({ offset: true, message: 'must be an ISO-8601 date-time' }).transform((text) => new Date(text));

export const auditQuery = z
  .object({
    userId: idSchema.optional().meta({ description: 'Entries where this user is the actor or the target.' }),
    type: typeList.optional().meta({ description: `Entries of these types: one or more of ${AUDIT_TYPES.join(', ')}, comma-separated or the parameter repeated.` }),
    from: instant.optional().meta({ description: 'Entries at or after this time.' }),
    to: instant.optional().meta({ description: 'Entries before this time.' }),
    before: idSchema.optional(),
    limit: pageLimitSchema,
  })
  .refine((query) => !query.from || !query.to || query.from < query.to, { message: 'must be after from', path: ['to'] });

export type AuditQuery = z.output<typeof auditQuery>;

export const auditResponseSchema = z.object({ entries: z.array(auditEntrySchema).meta({ description: 'Newest first.' }), nextCursor: nextCursorSchema });

export type AuditResponse = z.infer<typeof auditResponseSchema>;
