import type { PushTokenRecord, PushTokensRepository } from '../ports.js';
import { deletePushTokens } from './cascades.js';
import type { PushTokenDoc } from './documents.js';
import { among, by, scalar } from './filters.js';
import type { MongoDatabase } from './mongo-database.js';

const toPushToken = (doc: PushTokenDoc): PushTokenRecord => ({ token: doc._id, userId: doc.userId, sessionId: doc.sessionId, deviceId: doc.deviceId, updatedAt: doc.updatedAt });

export function createPushTokensRepository(mongo: MongoDatabase): PushTokensRepository {
  const tokens = mongo.collection('push_tokens');
  return {
    register(token) {
      return mongo.transaction(async (session) => {
        // Writing the session document serialises registrations from one session and conflicts with a
        // revocation in flight: a revoked session registers nothing.
        const live = await mongo
          .collection('sessions')
          .updateOne({ ...by({ _id: token.sessionId, userId: token.userId }), revokedAt: null }, { $set: { guardedAt: scalar(token.updatedAt) } }, { session });
        if (live.matchedCount === 0) return false;
        await deletePushTokens(mongo, session, {
          _id: { $ne: scalar(token.token) },
          $or: [by({ sessionId: token.sessionId }), ...(token.deviceId === null ? [] : [by({ userId: token.userId, deviceId: token.deviceId })])],
        });
        await tokens.updateOne(
          by({ _id: token.token }),
          { $set: by({ userId: token.userId, sessionId: token.sessionId, deviceId: token.deviceId, updatedAt: token.updatedAt }) },
          { upsert: true, session },
        );
        // A token that moved from another account must not carry that account's pushes.
        await mongo.collection('push_outbox').deleteMany({ ...by({ token: token.token }), userId: { $ne: scalar(token.userId) } }, { session });
        return true;
      });
    },
    async listByUser(userId) {
      const docs = await tokens.find(by({ userId })).sort({ updatedAt: -1 }).toArray();
      const sessionIds = docs.flatMap((doc) => (doc.sessionId ? [doc.sessionId] : []));
      const revoked = new Set(
        (await mongo.collection('sessions').find({ _id: among(sessionIds), revokedAt: { $ne: null } }, { projection: { _id: 1 } }).toArray()).map((doc) => doc._id),
      );
      return docs
        .filter((doc) => doc.sessionId === null || !revoked.has(doc.sessionId))
        .map(toPushToken);
    },
    removeForUser(userId, token) {
      return mongo.transaction(async (session) => {
        const doc = await tokens.findOne(by({ _id: token, userId }), { session });
        if (!doc) return null;
        await deletePushTokens(mongo, session, by({ _id: doc._id }));
        return toPushToken(doc);
      });
    },
  };
}
