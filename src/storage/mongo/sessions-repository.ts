import type { Filter } from 'mongodb';
import type { SessionsRepository } from '../ports.js';
import { recordAccountEvent } from './account-events-repository.js';
import { deletePushTokens, deleteSessions } from './cascades.js';
import type { SessionDoc } from './documents.js';
import { among, by, scalar } from './filters.js';
import type { MongoDatabase } from './mongo-database.js';
import { endedAt, toSession } from './records.js';

export function createSessionsRepository(mongo: MongoDatabase): SessionsRepository {
  const sessions = mongo.collection('sessions');
  const tokens = mongo.collection('refresh_tokens');

  const findByTokenHash = async (tokenHash: string) => {
    const token = await tokens.findOne(by({ _id: tokenHash }));
    const doc = token ? await sessions.findOne(by({ _id: token.sessionId })) : null;
    return doc ? toSession(doc) : null;
  };

  /**
   * Revokes the live sessions `filter` selects and, in the same transaction, deletes their push tokens
   * and records the revocation in the account-events feed (one event per user). The update's filter
   * re-checks `revokedAt: null` per document, so of two racing revocations each session is revoked by
   * one of them only (a write conflict retries the other, which then finds it revoked).
   */
  const revokeWhere = (filter: Filter<SessionDoc>, reason: string, now: Date) =>
    mongo.transaction(async (session) => {
      const live = await sessions.find({ ...filter, revokedAt: null }, { projection: { _id: 1, userId: 1, expiresAt: 1 }, session }).toArray();
      const revoked: string[] = [];
      for (const doc of live) {
        const { modifiedCount } = await sessions.updateOne(
          { _id: doc._id, revokedAt: null },
          { $set: { revokedAt: scalar(now), revokedReason: scalar(reason), endedAt: endedAt(doc.expiresAt, now) } },
          { session },
        );
        if (modifiedCount > 0) revoked.push(doc._id);
      }
      if (revoked.length === 0) return [];
      await deletePushTokens(mongo, session, { sessionId: among(revoked) });
      const byUser = new Map<string, string[]>();
      for (const doc of live) if (revoked.includes(doc._id)) byUser.set(doc.userId, [...(byUser.get(doc.userId) ?? []), doc._id]);
      for (const [userId, sessionIds] of byUser) await recordAccountEvent(mongo, session, { userId, kind: 'sessions_revoked', sessionIds, status: null });
      return revoked;
    });

  return {
    async findWithAccount(id) {
      const doc = await sessions.findOne(by({ _id: id }));
      if (!doc) return null;
      const account = await mongo.collection('users').findOne(by({ _id: doc.userId }), { projection: { role: 1, status: 1 } });
      return account ? { session: toSession(doc), role: account.role, status: account.status } : null;
    },
    async create(session, firstTokenHash) {
      const doc: SessionDoc = {
        _id: scalar(session.id),
        userId: scalar(session.userId),
        deviceName: scalar(session.deviceName),
        userAgent: scalar(session.userAgent),
        ip: scalar(session.ip),
        createdAt: scalar(session.createdAt),
        lastUsedAt: scalar(session.lastUsedAt),
        expiresAt: scalar(session.expiresAt),
        revokedAt: null,
        revokedReason: null,
        endedAt: session.expiresAt,
      };
      await mongo.transaction(async (trx) => {
        await sessions.insertOne(doc, { session: trx });
        await tokens.insertOne({ _id: scalar(firstTokenHash), sessionId: doc._id, createdAt: doc.createdAt, usedAt: null }, { session: trx });
      });
      return toSession(doc);
    },
    async listActiveByUser(userId, now) {
      const docs = await sessions.find({ ...by({ userId }), revokedAt: null, expiresAt: { $gt: scalar(now) } }).sort({ lastUsedAt: -1 }).toArray();
      return docs.map(toSession);
    },
    async consumeToken(tokenHash, now) {
      // One document update is the atomic step: only one caller can flip usedAt from null.
      const consumed = await tokens.findOneAndUpdate({ ...by({ _id: tokenHash }), usedAt: null }, { $set: { usedAt: scalar(now) } });
      if (consumed) {
        const doc = await sessions.findOneAndUpdate(by({ _id: consumed.sessionId }), { $set: { lastUsedAt: scalar(now) } }, { returnDocument: 'after' });
        if (doc) return { outcome: 'consumed', session: toSession(doc) };
      }
      const session = await findByTokenHash(tokenHash);
      return session ? { outcome: 'reused', session } : { outcome: 'unknown' };
    },
    findByTokenHash,
    async addToken(sessionId, tokenHash, now) {
      await tokens.insertOne({ _id: scalar(tokenHash), sessionId: scalar(sessionId), createdAt: scalar(now), usedAt: null });
    },
    async revoke(sessionId, userId, reason, now) {
      const revoked = await revokeWhere(by({ _id: sessionId, userId }), reason, now);
      return revoked.length > 0;
    },
    revokeAllForUser(userId, reason, now, keepSessionId) {
      return revokeWhere({ ...by({ userId }), ...(keepSessionId ? { _id: { $ne: scalar(keepSessionId) } } : {}) }, reason, now);
    },
    async deleteEnded(endedBefore, limit) {
      const ended = await sessions.find({ endedAt: { $lt: scalar(endedBefore) } }, { projection: { _id: 1 } }).limit(limit).toArray();
      if (ended.length === 0) return 0;
      return mongo.transaction((session) => deleteSessions(mongo, session, ended.map((doc) => doc._id)));
    },
  };
}
