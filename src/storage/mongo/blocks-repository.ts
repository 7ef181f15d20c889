import type { BlocksRepository } from '../ports.js';
import { linkId } from './documents.js';
import { among, by, scalar } from './filters.js';
import type { MongoDatabase } from './mongo-database.js';

export function createBlocksRepository(mongo: MongoDatabase): BlocksRepository {
  const blocks = mongo.collection('user_blocks');
  return {
    async block(blockerId, blockedId, at) {
      // A block made before keeps its time: the upsert sets fields on insert only.
      const id = linkId(scalar(blockerId), scalar(blockedId));
      const result = await blocks.updateOne(
        { _id: id },
        { $setOnInsert: { blockerId, blockedId, createdAt: scalar(at) } },
        { upsert: true },
      );
      if (result.upsertedCount > 0) return { created: true, blockedAt: at };
      const doc = await blocks.findOne({ _id: id });
      return { created: false, blockedAt: doc!.createdAt };
    },

    async unblock(blockerId, blockedId) {
      const { deletedCount } = await blocks.deleteOne({ _id: linkId(scalar(blockerId), scalar(blockedId)) });
      return deletedCount > 0;
    },

    async list(blockerId, page) {
      const after = page.after ? await blocks.findOne({ _id: linkId(scalar(blockerId), scalar(page.after)) }) : null;
      const docs = await blocks
        .find({
          ...by({ blockerId }),
          ...(after ? { $or: [{ createdAt: { $lt: after.createdAt } }, { createdAt: after.createdAt, blockedId: { $lt: after.blockedId } }] } : {}),
        })
        .sort({ createdAt: -1, blockedId: -1 })
        .limit(page.limit)
        .toArray();
      const names = new Map(
        (await mongo.collection('users').find({ _id: among(docs.map((doc) => doc.blockedId)) }, { projection: { name: 1 } }).toArray()).map((user) => [user._id, user.name]),
      );
      return docs.flatMap((doc) => (names.has(doc.blockedId) ? [{ userId: doc.blockedId, name: names.get(doc.blockedId)!, blockedAt: doc.createdAt }] : []));
    },

    async between(userId, otherId) {
      const found = new Set(
        (await blocks.find({ _id: among([linkId(scalar(userId), scalar(otherId)), linkId(otherId, userId)]) }, { projection: { _id: 1 } }).toArray()).map((doc) => doc._id),
      );
      return { blocks: found.has(linkId(userId, otherId)), blockedBy: found.has(linkId(otherId, userId)) };
    },

    async blockersAmong(userId, userIds) {
      if (userIds.length === 0) return [];
      const docs = await blocks.find({ ...by({ blockedId: userId }), blockerId: among(userIds) }, { projection: { blockerId: 1 } }).toArray();
      return docs.map((doc) => doc.blockerId);
    },
  };
}
