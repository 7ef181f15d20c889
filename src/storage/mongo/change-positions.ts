import type { ClientSession } from 'mongodb';
import type { MongoDatabase } from './mongo-database.js';

const CHAT_CHANGES = 'chatChanges';

/**
 * Positions in the chat changes. Every transaction that writes a message, a conversation, a member or a
 * hide takes its positions by incrementing one counter document in that same transaction. Two
 * transactions that both write the counter conflict: the second is retried (withTransaction) after the
 * first committed, so positions are taken in commit order, and once the counter reads N every change
 * with a position up to N is committed. Sync reads the counter first and returns changes up to it
 * (chat-changes-repository.ts): each committed change exactly once, in its latest state, since a
 * document written again takes a new, higher position. The price is that chat writes commit one at a
 * time on this document; message writes are grouped (message-writes.ts) so one increment serves a batch.
 */
export async function takePositions(mongo: MongoDatabase, session: ClientSession, count: number): Promise<() => number> {
  if (count <= 0) return () => {
    throw new Error('no change positions were taken');
  };
  const counter = await mongo
    .collection('counters')
    .findOneAndUpdate({ _id: CHAT_CHANGES }, { $inc: { value: count } }, { upsert: true, returnDocument: 'after', session });
  let next = counter!.value - count + 1;
  const last = counter!.value;
  return () => {
    if (next > last) throw new Error('more change positions used than taken');
    return next++;
  };
}

/** The latest position handed out: every change up to it is committed. */
export async function currentPosition(mongo: MongoDatabase): Promise<number> {
  const counter = await mongo.collection('counters').findOne({ _id: CHAT_CHANGES });
  return counter?.value ?? 0;
}
