import type { AnyBulkWriteOperation } from 'mongodb';
import { MAX_DEVICES_PER_PUSH, type DuePush, type NewPush, type PushStore, type SentPush } from '../../push/push-store.js';
import { newId } from '../../shared/ids.js';
import { deletePushTokens } from './cascades.js';
import type { PushOutboxDoc } from './documents.js';
import { among, by, literal, scalar } from './filters.js';
import type { MongoDatabase } from './mongo-database.js';

/** A lease is free when there is none or it ran out (its worker died or gave up). */
const leaseFree = (now: Date) => ({ $or: [{ leaseUntil: null }, { leaseUntil: { $lte: scalar(now) } }] });

/**
 * Pushes of one call with the same user and key are one, as if enqueued one after another: the last
 * one's content, the first one's due time.
 */
export function mergePushes(pushes: readonly NewPush[]): NewPush[] {
  const merged = new Map<string, NewPush>();
  pushes.forEach((push, index) => {
    const key = push.coalesceKey === null ? `#${index}` : `${push.userId} ${push.coalesceKey}`;
    const first = merged.get(key);
    merged.set(key, first ? { ...push, dueAt: first.dueAt } : push);
  });
  return [...merged.values()];
}

export function createPushOutboxRepository(mongo: MongoDatabase): PushStore {
  const outbox = mongo.collection('push_outbox');

  /**
   * Leases up to `limit` pushes `filter` selects, oldest by `order` first: the candidates are read, then
   * one update leases those still free under a lease id of this claim (each document's filter is
   * checked again as it is written, so a push another worker leased meanwhile is not taken), and what
   * carries the lease id is read back. Two workers never hold one push.
   */
  async function lease(filter: object, order: 'dueAt' | 'receiptAt', now: Date, leaseUntil: Date, limit: number): Promise<PushOutboxDoc[]> {
    const candidates = await outbox.find({ ...filter, ...leaseFree(now) }, { projection: { _id: 1 } }).sort({ [order]: 1 }).limit(limit).toArray();
    if (candidates.length === 0) return [];
    const leaseId = newId();
    await outbox.updateMany({ _id: among(candidates.map((doc) => doc._id)), ...filter, ...leaseFree(now) }, [
      { $set: { leaseUntil: literal(leaseUntil), leaseId: literal(leaseId), leasedRevision: '$revision' } },
    ]);
    return outbox.find(by({ leaseId })).sort({ [order]: 1 }).toArray();
  }

  const enqueueMany: PushStore['enqueueMany'] = async (pushes) => {
    if (pushes.length === 0) return 0;
    const merged = mergePushes(pushes);
    const userIds = [...new Set(merged.map((push) => push.userId))];
    const now = new Date();
    const tokens = await mongo.collection('push_tokens').find({ userId: among(userIds) }).sort({ updatedAt: -1 }).toArray();
    const sessionIds = tokens.flatMap((token) => (token.sessionId ? [token.sessionId] : []));
    const liveSessions = new Set(
      (await mongo.collection('sessions').find({ _id: among(sessionIds), revokedAt: null, expiresAt: { $gt: now } }, { projection: { _id: 1 } }).toArray()).map(
        (doc) => doc._id,
      ),
    );
    // Each user's MAX_DEVICES_PER_PUSH most recently registered tokens of live sessions (a token without a
    // session predates sessions and counts as live).
    const devicesOf = new Map<string, string[]>();
    for (const token of tokens) {
      if (token.sessionId !== null && !liveSessions.has(token.sessionId)) continue;
      const devices = devicesOf.get(token.userId) ?? [];
      if (devices.length < MAX_DEVICES_PER_PUSH) devices.push(token._id);
      devicesOf.set(token.userId, devices);
    }
    const writes: AnyBulkWriteOperation<PushOutboxDoc>[] = [];
    for (const push of merged) {
      for (const token of devicesOf.get(push.userId) ?? []) {
        const fresh = {
          token,
          userId: scalar(push.userId),
          kind: scalar(push.kind),
          content: push.content,
          coalesceKey: scalar(push.coalesceKey),
          dueAt: scalar(push.dueAt),
          expiresAt: scalar(push.expiresAt),
          attempts: 0,
          leaseUntil: null,
          revision: 0,
          leasedRevision: 0,
          ticketId: null,
          sentAt: null,
          receiptAt: null,
          createdAt: now,
        };
        if (push.coalesceKey === null) {
          writes.push({ insertOne: { document: { _id: newId(), ...fresh } } });
          continue;
        }
        // An unsent push of the token with the same key takes the new content (unique index on
        // (token, coalesceSlot); a racing upsert that loses the insert is retried by the server as an update).
        const { kind, content, expiresAt, revision: _revision, token: _token, ...onInsert } = fresh;
        writes.push({
          updateOne: {
            filter: { token, coalesceSlot: scalar(push.coalesceKey) },
            update: { $set: { kind, content, expiresAt }, $inc: { revision: 1 }, $setOnInsert: { _id: newId(), ...onInsert } },
            upsert: true,
          },
        });
      }
    }
    if (writes.length === 0) return 0;
    await outbox.bulkWrite(writes, { ordered: false });
    return writes.length;
  };

  return {
    enqueue: (push) => enqueueMany([push]),
    enqueueMany,

    async claimDue(now, leaseUntil, limit) {
      const docs = await lease({ ticketId: null, dueAt: { $lte: scalar(now) } }, 'dueAt', now, leaseUntil, limit);
      // A push queued for a token that moved to another account while it was queued is not theirs to get.
      const owners = new Map(
        (await mongo.collection('push_tokens').find({ _id: among([...new Set(docs.map((doc) => doc.token))]) }).toArray()).map((token) => [token._id, token.userId]),
      );
      const strays = docs.filter((doc) => owners.get(doc.token) !== doc.userId).map((doc) => doc._id);
      if (strays.length > 0) await outbox.deleteMany({ _id: among(strays) });
      return docs
        .filter((doc) => !strays.includes(doc._id))
        .map((doc): DuePush => ({ id: doc._id, token: doc.token, userId: doc.userId, kind: doc.kind, content: doc.content, attempts: doc.attempts, expiresAt: doc.expiresAt }));
    },

    markSent(id, ticketId, sentAt, receiptAt) {
      // Normally the push becomes a sent one. If a newer push was merged into it while it was being sent,
      // the ticket goes to a copy and the push itself is released, due at once, to send the newer content.
      // In a transaction: a merge landing meanwhile conflicts with it, and one of the two is retried.
      return mongo.transaction(async (session) => {
        const doc = await outbox.findOne({ ...by({ _id: id }), ticketId: null }, { session });
        if (!doc) return;
        const sent = { ticketId: scalar(ticketId), sentAt: scalar(sentAt), receiptAt: scalar(receiptAt) };
        if (doc.revision !== doc.leasedRevision) {
          const { _id, coalesceSlot: _slot, leaseId: _lease, ...copy } = doc;
          await outbox.insertOne({ ...copy, _id: newId(), coalesceKey: null, leaseUntil: null, ...sent }, { session });
          await outbox.updateOne({ _id }, { $set: { leaseUntil: null } }, { session });
        } else {
          await outbox.updateOne({ _id: doc._id }, { $set: { leaseUntil: null, ...sent }, $unset: { coalesceSlot: '' } }, { session });
        }
      });
    },

    async retryAt(id, dueAt) {
      await outbox.updateOne({ ...by({ _id: id }), ticketId: null }, { $set: { leaseUntil: null, dueAt: scalar(dueAt) }, $inc: { attempts: 1 } });
    },

    async claimReceiptsDue(now, leaseUntil, limit) {
      const docs = await lease({ ticketId: { $ne: null }, receiptAt: { $lte: scalar(now) } }, 'receiptAt', now, leaseUntil, limit);
      return docs.map((doc): SentPush => ({ id: doc._id, token: doc.token, ticketId: doc.ticketId!, sentAt: doc.sentAt! }));
    },

    async checkReceiptAt(id, receiptAt) {
      await outbox.updateOne({ ...by({ _id: id }), ticketId: { $ne: null } }, { $set: { receiptAt: scalar(receiptAt), leaseUntil: null } });
    },

    async finish(id) {
      // An unsent push that a newer one was merged into while leased is released instead: the newer
      // content is still to be sent. The delete's condition is checked atomically on the document.
      const { deletedCount } = await outbox.deleteOne({
        ...by({ _id: id }),
        $or: [{ ticketId: { $ne: null } }, { $expr: { $eq: ['$revision', '$leasedRevision'] } }],
      });
      if (deletedCount === 0) await outbox.updateOne({ ...by({ _id: id }), ticketId: null }, { $set: { leaseUntil: null } });
    },

    removeToken(token, unlessRegisteredAfter) {
      return mongo.transaction(
        async (session) => (await deletePushTokens(mongo, session, { ...by({ _id: token }), updatedAt: { $lte: scalar(unlessRegisteredAfter) } })) > 0,
      );
    },
  };
}
