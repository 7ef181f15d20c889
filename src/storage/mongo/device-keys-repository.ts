import type { ClientSession } from 'mongodb';
import type { DeviceKeysRecord, DeviceKeysRepository, PreKeyRecord, QueueToDeviceResult, SignedPreKeyRecord } from '../ports.js';
import { deleteDevices } from './cascades.js';
import { linkId, type DeviceDoc } from './documents.js';
import { among, by, scalar } from './filters.js';
import { isDuplicateKey, type MongoDatabase } from './mongo-database.js';
import { fromBinary, preKeyDoc, toBinary, toDevice } from './records.js';

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** Thrown inside a registration's transaction to roll it back: the one-time prekeys would exceed the cap. */
class PreKeysFull {
  constructor(readonly count: number) {}
}

/** The prekey fields a change sets: a key given (or null to remove it); nothing for a key not given. */
function preKeyFields(change: { signedPreKey?: SignedPreKeyRecord | null | undefined; kyberPreKey?: SignedPreKeyRecord | null | undefined; lastResortPreKey?: SignedPreKeyRecord | null | undefined }) {
  const fields: Partial<Pick<DeviceDoc, 'signedPreKey' | 'kyberPreKey' | 'lastResortPreKey'>> = {};
  if (change.signedPreKey) fields.signedPreKey = preKeyDoc(change.signedPreKey);
  if (change.kyberPreKey !== undefined) fields.kyberPreKey = change.kyberPreKey ? preKeyDoc(change.kyberPreKey) : null;
  if (change.lastResortPreKey !== undefined) fields.lastResortPreKey = change.lastResortPreKey ? preKeyDoc(change.lastResortPreKey) : null;
  return fields;
}

export function createDeviceKeysRepository(mongo: MongoDatabase): DeviceKeysRepository {
  const devices = mongo.collection('e2ee_devices');
  const prekeys = mongo.collection('e2ee_one_time_prekeys');
  const queue = mongo.collection('e2ee_to_device_messages');

  const countKeys = (sessionId: string, session?: ClientSession) => prekeys.countDocuments(by({ sessionId }), { session });

  /** Adds keys within the cap, in a transaction that wrote the device's document first (so adds run one at a time). */
  async function addKeys(session: ClientSession, sessionId: string, keys: readonly PreKeyRecord[], maxStored: number) {
    const stored = await countKeys(sessionId, session);
    if (keys.length === 0) return { outcome: 'added' as const, count: stored };
    const known = new Set(
      (await prekeys.find({ _id: among(keys.map((key) => linkId(sessionId, scalar(key.keyId)))) }, { projection: { keyId: 1 }, session }).toArray()).map((doc) => doc.keyId),
    );
    const fresh = [...new Map(keys.filter((key) => !known.has(key.keyId)).map((key) => [key.keyId, key])).values()];
    if (stored + fresh.length > maxStored) return { outcome: 'full' as const, count: stored };
    if (fresh.length > 0) {
      await prekeys.insertMany(
        fresh.map((key) => ({
          _id: linkId(sessionId, key.keyId),
          sessionId,
          keyId: scalar(key.keyId),
          publicKey: toBinary(key.publicKey),
          signature: key.signature ? toBinary(key.signature) : null,
        })),
        { session },
      );
    }
    return { outcome: 'added' as const, count: stored + fresh.length };
  }

  /** The devices of live sessions of active accounts among `docs`. */
  async function liveDevices(docs: DeviceDoc[], now: Date): Promise<DeviceDoc[]> {
    const liveSessions = new Set(
      (await mongo.collection('sessions').find({ _id: among(docs.map((doc) => doc._id)), revokedAt: null, expiresAt: { $gt: scalar(now) } }, { projection: { _id: 1 } }).toArray()).map(
        (doc) => doc._id,
      ),
    );
    const activeUsers = new Set(
      (await mongo.collection('users').find({ _id: among([...new Set(docs.map((doc) => doc.userId))]), status: 'active' }, { projection: { _id: 1 } }).toArray()).map((doc) => doc._id),
    );
    return docs.filter((doc) => liveSessions.has(doc._id) && activeUsers.has(doc.userId));
  }

  const byCreation = (a: DeviceDoc, b: DeviceDoc) => a.createdAt.getTime() - b.createdAt.getTime() || (a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0);

  return {
    async register(device, oneTimePreKeys, maxStored) {
      try {
        return await mongo.transaction(async (session) => {
          // Writing the session conflicts with a revocation committing meanwhile (see SessionDoc.guardedAt).
          const live = await mongo
            .collection('sessions')
            .updateOne(
              { ...by({ _id: device.sessionId, userId: device.userId }), revokedAt: null, expiresAt: { $gt: scalar(device.updatedAt) } },
              { $set: { guardedAt: device.updatedAt } },
              { session },
            );
          if (live.matchedCount === 0) return { outcome: 'sessionEnded' as const };
          const previousDoc = await devices.findOne(by({ _id: device.sessionId }), { session });
          const previous = previousDoc ? toDevice(previousDoc) : null;
          const doc: DeviceDoc = {
            _id: device.sessionId,
            userId: scalar(device.userId),
            deviceId: scalar(device.deviceId),
            registrationId: scalar(device.registrationId),
            identityAlgorithm: scalar(device.identityAlgorithm),
            identityKey: toBinary(device.identityKey),
            signedPreKey: preKeyDoc(device.signedPreKey),
            kyberPreKey: device.kyberPreKey ? preKeyDoc(device.kyberPreKey) : null,
            lastResortPreKey: device.lastResortPreKey ? preKeyDoc(device.lastResortPreKey) : null,
            createdAt: previousDoc?.createdAt ?? scalar(device.updatedAt),
            updatedAt: scalar(device.updatedAt),
            preKeyWrites: (previousDoc?.preKeyWrites ?? 0) + 1,
          };
          await devices.replaceOne({ _id: doc._id }, doc, { upsert: true, session });
          const newIdentity = previous && (previous.deviceId !== device.deviceId || !sameBytes(previous.identityKey, device.identityKey));
          if (newIdentity) await prekeys.deleteMany({ sessionId: doc._id }, { session });
          const added = await addKeys(session, doc._id, oneTimePreKeys, maxStored);
          if (added.outcome === 'full') throw new PreKeysFull(added.count);
          return { outcome: 'registered' as const, device: toDevice(doc), previous, oneTimePreKeyCount: added.count };
        });
      } catch (error) {
        if (isDuplicateKey(error)) return { outcome: 'deviceIdTaken' };
        if (error instanceof PreKeysFull) return { outcome: 'full', count: error.count };
        throw error;
      }
    },

    async findBySession(sessionId) {
      const doc = await devices.findOne(by({ _id: sessionId }));
      return doc ? toDevice(doc) : null;
    },

    async replacePreKeys(sessionId, change) {
      const doc = await devices.findOneAndUpdate(by({ _id: sessionId }), { $set: { ...preKeyFields(change), updatedAt: scalar(change.at) } }, { returnDocument: 'after' });
      return doc ? toDevice(doc) : null;
    },

    addOneTimePreKeys(sessionId, keys, maxStored) {
      return mongo.transaction(async (session) => {
        const device = await devices.updateOne(by({ _id: sessionId }), { $inc: { preKeyWrites: 1 } }, { session });
        if (device.matchedCount === 0) return { outcome: 'noDevice' as const };
        return addKeys(session, sessionId, keys, maxStored);
      });
    },

    countOneTimePreKeys: (sessionId) => countKeys(sessionId),

    async removeBySessions(sessionIds) {
      if (sessionIds.length === 0) return [];
      return mongo.transaction(async (session) => {
        const docs = await devices.find({ _id: among(sessionIds) }, { session }).toArray();
        await deleteDevices(mongo, session, docs.map((doc) => doc._id));
        return docs.map(toDevice);
      });
    },

    async listForUser(userId, now) {
      const docs = await devices.find(by({ userId })).toArray();
      return (await liveDevices(docs, now)).sort(byCreation).map(toDevice);
    },

    async claim(userId, options) {
      const docs = await devices
        .find({ ...by({ userId }), _id: { $ne: scalar(options.exceptSessionId) }, ...(options.deviceIds ? { deviceId: among(options.deviceIds) } : {}) })
        .toArray();
      const targets = (await liveDevices(docs, options.now)).sort(byCreation);
      // Each device's lowest one-time prekey is taken with one findOneAndDelete: atomic on the key's
      // document, so concurrent claims in any process get different keys and none waits.
      return Promise.all(
        targets.map(async (doc) => {
          const device: DeviceKeysRecord = toDevice(doc);
          const key = await prekeys.findOneAndDelete({ sessionId: doc._id }, { sort: { keyId: 1 } });
          if (key) {
            return {
              device,
              oneTimePreKey: { keyId: key.keyId, publicKey: fromBinary(key.publicKey), signature: key.signature ? fromBinary(key.signature) : null, lastResort: false },
              remaining: await countKeys(doc._id),
            };
          }
          return { device, oneTimePreKey: device.lastResortPreKey ? { ...device.lastResortPreKey, lastResort: true } : null, remaining: 0 };
        }),
      );
    },

    async audienceOf(userId) {
      const members = mongo.collection('conversation_members');
      const mine = await members.find({ ...by({ userId }), leftAt: null }, { projection: { conversationId: 1 } }).toArray();
      return members.distinct('userId', { conversationId: among(mine.map((doc) => doc.conversationId)), leftAt: null, userId: { $ne: scalar(userId) } });
    },

    queueToDevice(messages, maxPending, now) {
      // In one transaction: a device's queue bound is checked against what was committed before it.
      return mongo.transaction(async (session) => {
        const candidates = await devices
          .find({ $or: messages.map((message) => by({ userId: message.userId, deviceId: message.deviceId })) }, { session })
          .toArray();
        const live = await liveDevices(candidates, now);
        const deviceOf = new Map(live.map((doc) => [linkId(doc.userId, doc.deviceId), doc._id]));
        const pending = new Map<string, number>();
        for (const sessionId of new Set(deviceOf.values())) pending.set(sessionId, await queue.countDocuments({ sessionId }, { session }));
        const results: QueueToDeviceResult[] = [];
        const docs = [];
        for (const message of messages) {
          const sessionId = deviceOf.get(linkId(message.userId, message.deviceId));
          if (!sessionId) {
            results.push({ outcome: 'noSuchDevice' });
            continue;
          }
          if (pending.get(sessionId)! >= maxPending) {
            results.push({ outcome: 'queueFull' });
            continue;
          }
          docs.push({
            _id: scalar(message.id),
            sessionId,
            senderId: scalar(message.senderId),
            senderDeviceId: scalar(message.senderDeviceId),
            type: scalar(message.type),
            body: scalar(message.body),
            createdAt: scalar(message.createdAt),
          });
          results.push({ outcome: 'queued', sessionId });
        }
        if (docs.length > 0) await queue.insertMany(docs, { session });
        return results;
      });
    },

    async pendingToDevice(sessionId, limit) {
      const docs = await queue.find(by({ sessionId })).sort({ _id: 1 }).limit(limit).toArray();
      return docs.map((doc) => ({ id: doc._id, senderId: doc.senderId, senderDeviceId: doc.senderDeviceId, type: doc.type, body: doc.body, createdAt: doc.createdAt }));
    },

    async acknowledgeToDevice(sessionId, ids) {
      const { deletedCount } = await queue.deleteMany({ ...by({ sessionId }), _id: among(ids) });
      return deletedCount;
    },
  };
}
