import type { Filter } from 'mongodb';
import type { UserRole, UsersRepository, UserStatus } from '../ports.js';
import { recordAccountEvent } from './account-events-repository.js';
import type { UserDoc } from './documents.js';
import { among, by, scalar, startsWith } from './filters.js';
import { isDuplicateKey, type MongoDatabase } from './mongo-database.js';
import { nameFields, toPerson, toUser, words } from './records.js';

export function createUsersRepository(mongo: MongoDatabase): UsersRepository {
  const users = mongo.collection('users');

  /** Changes an account and, in the same transaction, records the change in the account-events feed. */
  const changeAccount = (id: string, change: { role?: UserRole; status?: UserStatus }) =>
    mongo.transaction(async (session) => {
      const doc = await users.findOneAndUpdate(by({ _id: id }), { $set: by(change) }, { returnDocument: 'after', session });
      if (!doc) return null;
      await recordAccountEvent(mongo, session, { userId: doc._id, kind: 'account_changed', sessionIds: null, status: doc.status });
      return toUser(doc);
    });

  return {
    async create(user) {
      const doc: UserDoc = {
        _id: scalar(user.id),
        email: scalar(user.email),
        name: scalar(user.name),
        ...nameFields(user.name),
        passwordHash: scalar(user.passwordHash),
        role: 'user',
        status: 'active',
        createdAt: scalar(user.createdAt),
        lastSeenAt: null,
      };
      try {
        await users.insertOne(doc);
      } catch (error) {
        if (isDuplicateKey(error)) return null;
        throw error;
      }
      return toUser(doc);
    },
    async findById(id) {
      const doc = await users.findOne(by({ _id: id }));
      return doc ? toUser(doc) : null;
    },
    async findByEmail(email) {
      const doc = await users.findOne(by({ email }));
      return doc ? toUser(doc) : null;
    },
    async updatePasswordHash(id, passwordHash) {
      await users.updateOne(by({ _id: id }), { $set: by({ passwordHash }) });
    },
    setRole: (id, role) => changeAccount(id, { role }),
    setStatus: (id, status) => changeAccount(id, { status }),
    async setLastSeen(id, at) {
      await users.updateOne(by({ _id: id }), { $set: by({ lastSeenAt: at }) });
    },
    async search(text, page) {
      const lowered = text.toLowerCase();
      const queryWords = words(text);
      const filter: Filter<UserDoc> = {
        status: 'active',
        _id: { $ne: scalar(page.excludeId) },
        $or: [
          { nameLower: startsWith(lowered) },
          ...(queryWords.length > 0 ? [{ $and: queryWords.map((word) => ({ nameWords: startsWith(word) })) }] : []),
          // Emails are stored lower-cased: a whole one matches through the unique index, a part never.
          by({ email: lowered }),
        ],
      };
      if (page.after) {
        const after = await users.findOne(by({ _id: page.after }), { projection: { nameLower: 1 } });
        if (after) filter.$and = [{ $or: [{ nameLower: { $gt: after.nameLower } }, { nameLower: after.nameLower, _id: { $gt: after._id } }] }];
      }
      const docs = await users.find(filter, { projection: { _id: 1, name: 1, lastSeenAt: 1 } }).sort({ nameLower: 1, _id: 1 }).limit(page.limit).toArray();
      return docs.map(toPerson);
    },
    async findPeople(ids) {
      if (ids.length === 0) return [];
      const docs = await users.find({ _id: among(ids), status: 'active' }, { projection: { _id: 1, name: 1, lastSeenAt: 1 } }).toArray();
      return docs.map(toPerson);
    },
    async list(page) {
      const filter: Filter<UserDoc> = {};
      if (page.query) {
        const lowered = page.query.toLowerCase();
        filter.$or = [{ nameLower: startsWith(lowered) }, { email: startsWith(lowered) }];
      }
      if (page.status) filter.status = scalar(page.status);
      if (page.after) filter._id = { $lt: scalar(page.after) };
      const docs = await users.find(filter).sort({ _id: -1 }).limit(page.limit).toArray();
      return docs.map(toUser);
    },
  };
}
