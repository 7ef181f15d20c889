import { sql, type Kysely, type Selectable, type UpdateQueryBuilder, type UpdateResult } from 'kysely';
import type { SessionRecord, SessionsRepository } from '../ports.js';
import type { Database, SessionsTable } from './schema.js';

function toSession(row: Selectable<SessionsTable>): SessionRecord {
  return {
    id: row.id,
    userId: row.user_id,
    deviceName: row.device_name,
    userAgent: row.user_agent,
    ip: row.ip,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    revokedReason: row.revoked_reason,
  };
}

type SessionsUpdate = UpdateQueryBuilder<Database, 'sessions', 'sessions', UpdateResult>;

/**
 * Revokes the live sessions `narrow` selects and, in the same statement, deletes their push tokens and
 * records the revocation in the account-events feed (one event per user). Returns the revoked session ids.
 */
async function revokeWhere(
  db: Kysely<Database>,
  change: { reason: string; now: Date },
  narrow: (query: SessionsUpdate) => SessionsUpdate,
): Promise<string[]> {
  const row = await db
    .with('revoked', () =>
      narrow(db.updateTable('sessions').set({ revoked_at: change.now, revoked_reason: change.reason }).where('revoked_at', 'is', null)).returning([
        'id',
        'user_id',
      ]),
    )
    .with('dropped_push_tokens', (query) =>
      query.deleteFrom('push_tokens').where('session_id', 'in', (eb) => eb.selectFrom('revoked').select('id')),
    )
    .insertInto('account_events')
    .columns(['user_id', 'kind', 'session_ids'])
    .expression((eb) =>
      eb
        .selectFrom('revoked')
        .select((inner) => ['user_id', sql.lit('sessions_revoked').as('kind'), inner.fn.agg<string[]>('array_agg', ['id']).as('session_ids')])
        .groupBy('user_id'),
    )
    .returning('session_ids')
    .executeTakeFirst();
  return row?.session_ids ?? [];
}

export function createSessionsRepository(db: Kysely<Database>): SessionsRepository {
  const findByTokenHash = async (tokenHash: string) => {
    const row = await db
      .selectFrom('refresh_tokens')
      .innerJoin('sessions', 'sessions.id', 'refresh_tokens.session_id')
      .selectAll('sessions')
      .where('refresh_tokens.token_hash', '=', tokenHash)
      .executeTakeFirst();
    return row ? toSession(row) : null;
  };
  return {
    async findWithAccount(id) {
      const row = await db
        .selectFrom('sessions')
        .innerJoin('users', 'users.id', 'sessions.user_id')
        .selectAll('sessions')
        .select(['users.role as account_role', 'users.status as account_status'])
        .where('sessions.id', '=', id)
        .executeTakeFirst();
      return row ? { session: toSession(row), role: row.account_role, status: row.account_status } : null;
    },
    async create(session, firstTokenHash) {
      return db.transaction().execute(async (trx) => {
        const row = await trx
          .insertInto('sessions')
          .values({
            id: session.id,
            user_id: session.userId,
            device_name: session.deviceName,
            user_agent: session.userAgent,
            ip: session.ip,
            created_at: session.createdAt,
            last_used_at: session.lastUsedAt,
            expires_at: session.expiresAt,
          })
          .returningAll()
          .executeTakeFirstOrThrow();
        await trx
          .insertInto('refresh_tokens')
          .values({ token_hash: firstTokenHash, session_id: session.id, created_at: session.createdAt })
          .execute();
        return toSession(row);
      });
    },
    async listActiveByUser(userId, now) {
      const rows = await db
        .selectFrom('sessions')
        .selectAll()
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .where('expires_at', '>', now)
        .orderBy('last_used_at', 'desc')
        .execute();
      return rows.map(toSession);
    },
    async consumeToken(tokenHash, now) {
      // A conditional update is the atomic step: only one caller can flip used_at from null.
      const consumed = await db
        .updateTable('refresh_tokens')
        .set({ used_at: now })
        .where('token_hash', '=', tokenHash)
        .where('used_at', 'is', null)
        .returning('session_id')
        .executeTakeFirst();
      if (consumed) {
        const session = await db
          .updateTable('sessions')
          .set({ last_used_at: now })
          .where('id', '=', consumed.session_id)
          .returningAll()
          .executeTakeFirstOrThrow();
        return { outcome: 'consumed', session: toSession(session) };
      }
      const session = await findByTokenHash(tokenHash);
      return session ? { outcome: 'reused', session } : { outcome: 'unknown' };
    },
    findByTokenHash,
    async addToken(sessionId, tokenHash, now) {
      await db.insertInto('refresh_tokens').values({ token_hash: tokenHash, session_id: sessionId, created_at: now }).execute();
    },
    async revoke(sessionId, userId, reason, now) {
      const revoked = await revokeWhere(db, { reason, now }, (query) => query.where('id', '=', sessionId).where('user_id', '=', userId));
      return revoked.length > 0;
    },
    revokeAllForUser(userId, reason, now, keepSessionId) {
      return revokeWhere(db, { reason, now }, (query) => {
        const ofUser = query.where('user_id', '=', userId);
        return keepSessionId ? ofUser.where('id', '!=', keepSessionId) : ofUser;
      });
    },
    async deleteEnded(endedBefore, limit) {
      // When a session ended: its revocation or its expiry, whichever came first (least() skips a null).
      // The expression is the one sessions_ended_idx indexes. Refresh tokens go with it (on delete cascade).
      const result = await db
        .deleteFrom('sessions')
        .where('id', 'in', (eb) =>
          eb.selectFrom('sessions').select('id').where(sql<Date>`least(expires_at, revoked_at)`, '<', endedBefore).limit(limit),
        )
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
