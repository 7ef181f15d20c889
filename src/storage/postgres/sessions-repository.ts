import type { Kysely, Selectable } from 'kysely';
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

export function createSessionsRepository(db: Kysely<Database>): SessionsRepository {
  const findById = async (id: string) => {
    const row = await db.selectFrom('sessions').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toSession(row) : null;
  };
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
    findById,
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
      const result = await db
        .updateTable('sessions')
        .set({ revoked_at: now, revoked_reason: reason })
        .where('id', '=', sessionId)
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async revokeAllForUser(userId, reason, now, keepSessionId) {
      let query = db
        .updateTable('sessions')
        .set({ revoked_at: now, revoked_reason: reason })
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null);
      if (keepSessionId) query = query.where('id', '!=', keepSessionId);
      const rows = await query.returning('id').execute();
      return rows.map((row) => row.id);
    },
  };
}
