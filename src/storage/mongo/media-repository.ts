import type { ClientSession } from 'mongodb';
import type { MediaDetails, MediaStore } from '../../media/media-store.js';
import type { MediaDoc } from './documents.js';
import { among, by, scalar } from './filters.js';
import { linkId } from './documents.js';
import type { MongoDatabase } from './mongo-database.js';
import { toMedia } from './records.js';

const detailFields = (details: MediaDetails) =>
  ({
    kind: scalar(details.kind),
    contentType: scalar(details.contentType),
    size: scalar(details.size),
    width: scalar(details.width),
    height: scalar(details.height),
    durationMs: scalar(details.durationMs),
    thumbnail: details.thumbnail ? { width: scalar(details.thumbnail.width), height: scalar(details.thumbnail.height) } : null,
  }) satisfies Partial<MediaDoc>;

export function createMediaRepository(mongo: MongoDatabase): MediaStore {
  const media = mongo.collection('media');

  const usage = async (ownerId: string, since: Date, session?: ClientSession) => {
    const [row] = await media
      .aggregate<{ uploads: number; bytes: number }>(
        [
          { $match: { ...by({ ownerId }), discardedAt: null } },
          { $group: { _id: null, uploads: { $sum: { $cond: [{ $gte: ['$createdAt', scalar(since)] }, 1, 0] } }, bytes: { $sum: '$size' } } },
        ],
        { session },
      )
      .toArray();
    return { uploads: row?.uploads ?? 0, bytes: row?.bytes ?? 0 };
  };

  return {
    create: (record, budget) =>
      mongo.transaction(async (session) => {
        // One owner's uploads are counted and stored one at a time, whichever process takes them: each
        // transaction writes the owner's budget document first, so two at once conflict.
        await mongo.collection('media_budgets').updateOne(by({ _id: record.ownerId }), { $inc: { uploads: 1 } }, { upsert: true, session });
        const used = await usage(record.ownerId, budget.since, session);
        if (used.uploads >= budget.maxUploads) return 'tooManyUploads';
        if (used.bytes + record.size > budget.maxBytes) return 'quotaExceeded';
        await media.insertOne(
          {
            _id: scalar(record.id),
            ownerId: scalar(record.ownerId),
            status: scalar(record.status),
            encrypted: scalar(record.encrypted),
            createdAt: scalar(record.createdAt),
            fileName: scalar(record.fileName),
            ...detailFields(record),
            messageId: null,
            attachedAt: null,
            discardedAt: null,
          },
          { session },
        );
        return 'created';
      }),

    usage: (ownerId, since) => usage(ownerId, since),

    async findById(id) {
      const doc = await media.findOne({ ...by({ _id: id }), discardedAt: null });
      return doc ? toMedia(doc) : null;
    },

    async findAccessible(id, viewerId) {
      const doc = await media.findOne({ ...by({ _id: id }), status: 'ready', discardedAt: null });
      if (!doc) return null;
      const message = doc.messageId ? await mongo.collection('messages').findOne({ _id: doc.messageId }, { projection: { conversationId: 1 } }) : null;
      if (doc.ownerId === viewerId && (doc.attachedAt === null || message)) return toMedia(doc);
      if (!message) return null;
      const member = await mongo.collection('conversation_members').findOne({ _id: linkId(message.conversationId, scalar(viewerId)), leftAt: null }, { projection: { _id: 1 } });
      return member ? toMedia(doc) : null;
    },

    async markReady(id, ownerId, details) {
      const doc = await media.findOneAndUpdate(
        { ...by({ _id: id, ownerId }), status: 'uploading', discardedAt: null },
        { $set: { status: 'ready', ...detailFields(details) } },
        { returnDocument: 'after' },
      );
      return doc ? toMedia(doc) : null;
    },

    async discardByOwner(ownerId) {
      const { modifiedCount } = await media.updateMany({ ...by({ ownerId }), discardedAt: null }, { $set: { discardedAt: new Date() } });
      return modifiedCount;
    },

    async discardUnattached(createdBefore, limit) {
      const due = [
        ...(await media.find({ attachedAt: null, discardedAt: null, createdAt: { $lt: scalar(createdBefore) } }, { projection: { _id: 1 } }).sort({ createdAt: 1 }).limit(limit).toArray()),
        ...(await media.find({ attachedAt: { $ne: null }, messageId: null, discardedAt: null }, { projection: { _id: 1 } }).limit(limit).toArray()),
      ];
      if (due.length === 0) return 0;
      const { modifiedCount } = await media.updateMany({ _id: among(due.map((doc) => doc._id)), discardedAt: null }, { $set: { discardedAt: new Date() } });
      return modifiedCount;
    },

    async listDiscarded(limit) {
      const docs = await media.find({ discardedAt: { $ne: null } }, { projection: { _id: 1, status: 1, thumbnail: 1 } }).sort({ discardedAt: 1 }).limit(limit).toArray();
      return docs.map((doc) => ({ id: doc._id, status: doc.status, hasThumbnail: doc.thumbnail !== null }));
    },

    async delete(ids) {
      if (ids.length > 0) await media.deleteMany({ _id: among(ids) });
    },
  };
}
