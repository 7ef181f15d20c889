import type { ClientSession, Filter } from 'mongodb';
import type { PushTokenDoc } from './documents.js';
import { among } from './filters.js';
import type { MongoDatabase } from './mongo-database.js';

/**
 * What PostgreSQL's `on delete cascade` foreign keys do, done by hand in the deleting transaction: a
 * push token takes its queued pushes with it; a session its refresh tokens, push tokens and E2EE device;
 * a device its one-time prekeys and queued to-device messages.
 */
export async function deletePushTokens(mongo: MongoDatabase, session: ClientSession, filter: Filter<PushTokenDoc>): Promise<number> {
  const tokens = await mongo.collection('push_tokens').find(filter, { projection: { _id: 1 }, session }).toArray();
  if (tokens.length === 0) return 0;
  const ids = tokens.map((token) => token._id);
  await mongo.collection('push_outbox').deleteMany({ token: among(ids) }, { session });
  const { deletedCount } = await mongo.collection('push_tokens').deleteMany({ _id: among(ids) }, { session });
  return deletedCount;
}

export async function deleteDevices(mongo: MongoDatabase, session: ClientSession, sessionIds: readonly string[]): Promise<void> {
  if (sessionIds.length === 0) return;
  await mongo.collection('e2ee_one_time_prekeys').deleteMany({ sessionId: among(sessionIds) }, { session });
  await mongo.collection('e2ee_to_device_messages').deleteMany({ sessionId: among(sessionIds) }, { session });
  await mongo.collection('e2ee_devices').deleteMany({ _id: among(sessionIds) }, { session });
}

export async function deleteSessions(mongo: MongoDatabase, session: ClientSession, sessionIds: readonly string[]): Promise<number> {
  if (sessionIds.length === 0) return 0;
  await mongo.collection('refresh_tokens').deleteMany({ sessionId: among(sessionIds) }, { session });
  await deletePushTokens(mongo, session, { sessionId: among(sessionIds) });
  await deleteDevices(mongo, session, sessionIds);
  const { deletedCount } = await mongo.collection('sessions').deleteMany({ _id: among(sessionIds) }, { session });
  return deletedCount;
}
