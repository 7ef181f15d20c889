import type { ClientSession } from 'mongodb';
import { newId } from '../../shared/ids.js';
import type { AccountEvent, AccountEventsRepository } from '../ports.js';
import type { AccountEventDoc } from './documents.js';
import { literal } from './filters.js';
import type { MongoDatabase } from './mongo-database.js';

/**
 * Records an account event in the transaction `session` belongs to, with the database's clock
 * (`$$NOW`) as its time, as PostgreSQL's column default does: the feed compares it with `since`, which
 * is also the database's clock, so the processes' own clocks do not matter.
 */
export async function recordAccountEvent(mongo: MongoDatabase, session: ClientSession, event: Omit<AccountEventDoc, '_id' | 'createdAt'>): Promise<void> {
  await mongo.collection('account_events').updateOne(
    { _id: newId() },
    [
      {
        $set: {
          userId: literal(event.userId),
          kind: literal(event.kind),
          sessionIds: event.sessionIds ? { $literal: event.sessionIds.map(String) } : null,
          status: literal(event.status),
          createdAt: '$$NOW',
        },
      },
    ],
    { upsert: true, session },
  );
}

/** The database's clock. */
export async function databaseNow(mongo: MongoDatabase): Promise<Date> {
  const hello = await mongo.db.command({ hello: 1 });
  return hello['localTime'] as Date;
}

/** An event's seq: its UUIDv7 id as a decimal number, so seqs grow with time and compare as numbers, as PostgreSQL's identity does. */
export const seqOf = (id: string) => BigInt(`0x${id.replace(/-/g, '')}`).toString();

export function createAccountEventsRepository(mongo: MongoDatabase): AccountEventsRepository {
  const events = mongo.collection('account_events');
  return {
    async since(since) {
      const [docs, now] = await Promise.all([events.find({ createdAt: { $gte: since } }).sort({ _id: 1 }).toArray(), databaseNow(mongo)]);
      return {
        events: docs.map((doc): AccountEvent & { seq: string } =>
          doc.kind === 'sessions_revoked'
            ? { seq: seqOf(doc._id), kind: 'sessionsRevoked', userId: doc.userId, sessionIds: doc.sessionIds ?? [] }
            : { seq: seqOf(doc._id), kind: 'accountChanged', userId: doc.userId, status: doc.status ?? 'active' },
        ),
        now,
      };
    },
    async prune(before) {
      await events.deleteMany({ createdAt: { $lt: before } });
    },
  };
}
