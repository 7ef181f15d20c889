import type { Collection, Document } from 'mongodb';
import type { GroupCallMemberDoc } from '../mongo/documents.js';
import { connectMongo } from '../mongo/mongo-storage.js';
import { isDuplicateKey } from '../mongo/mongo-database.js';
import { docToRow, groupCallMemberRows, reactionRows, rowToDoc } from './mongo-rows.js';
import type { CopyEndpoint, Row } from './tables.js';

/** Tables MongoDB keeps inside their parent's document: the parent collection, and how its documents hold them. */
const EMBEDDED: Record<string, { parent: string; field: string; rows: (doc: Row) => Row[] }> = {
  message_reactions: { parent: 'messages', field: 'reactions', rows: reactionRows },
  group_call_members: { parent: 'group_calls', field: 'members', rows: groupCallMemberRows },
};

/** Collections that carry a sync change position. */
const POSITIONED = new Set(['messages', 'message_hides', 'conversations', 'conversation_members']);

/**
 * A MongoDB database as a copy endpoint. Copied documents take fresh change positions (one counter
 * increment per batch); embedded tables are pushed into their parents, each entry at most once.
 */
export async function openMongoEndpoint(uri: string, name: string): Promise<CopyEndpoint> {
  const mongo = await connectMongo({ uri });
  /** Documents with string ids, of whichever collection: the copy handles them as rows. */
  const collection = (table: string) => mongo.db.collection(table) as unknown as Collection<Document & { _id: string }>;
  return {
    name,
    async read(table, after, limit) {
      const embedded = EMBEDDED[table.name];
      const source = collection(embedded?.parent ?? table.name);
      const filter = {
        ...(after ? { _id: { $gt: String(after[0]) } } : {}),
        ...(embedded ? { [`${embedded.field}.0`]: { $exists: true } } : {}),
      };
      // Embedded rows are read a parent at a time (at most `limit` parents), and resumed after the last parent.
      const docs = await source.find(filter).sort({ _id: 1 }).limit(limit).toArray();
      const rows = embedded ? docs.flatMap((doc) => embedded.rows(doc)) : docs.map((doc) => docToRow(table.name, doc));
      const last = docs.at(-1);
      return { rows, last: last ? [last['_id']] : after };
    },
    async write(table, rows) {
      if (rows.length === 0) return;
      const embedded = EMBEDDED[table.name];
      if (embedded?.field === 'reactions') {
        await mongo.collection('messages').bulkWrite(
          rows.map((row) => ({
            updateOne: {
              filter: { _id: String(row['message_id']), reactions: { $not: { $elemMatch: { userId: String(row['user_id']), emoji: String(row['emoji']) } } } },
              update: { $push: { reactions: { userId: String(row['user_id']), emoji: String(row['emoji']), createdAt: row['created_at'] as Date } } },
            },
          })),
          { ordered: true },
        );
        return;
      }
      if (embedded) {
        const ordered = [...rows].sort((a, b) => String(a['call_id']).localeCompare(String(b['call_id'])) || Number(a['position']) - Number(b['position']));
        await mongo.collection('group_calls').bulkWrite(
          ordered.map((row) => {
            const { callId: _call, position: _position, ...member } = rowToDoc('group_call_members', row);
            return {
              updateOne: {
                filter: { _id: String(row['call_id']), 'members.userId': { $ne: String(row['user_id']) } },
                update: { $push: { members: member as unknown as GroupCallMemberDoc } },
              },
            };
          }),
          { ordered: true },
        );
        return;
      }
      const docs = rows.map((row) => rowToDoc(table.name, row));
      if (POSITIONED.has(table.name)) {
        const counter = await mongo.collection('counters').findOneAndUpdate({ _id: 'chatChanges' }, { $inc: { value: docs.length } }, { upsert: true, returnDocument: 'after' });
        let next = counter!.value - docs.length + 1;
        for (const doc of docs) doc['changePos'] = next++;
      }
      try {
        await collection(table.name).insertMany(docs as (Document & { _id: string })[], { ordered: false });
      } catch (error) {
        // A resumed copy writes its last batch again: what is there already stays.
        const writeErrors = (error as { writeErrors?: unknown }).writeErrors;
        const onlyDuplicates = Array.isArray(writeErrors) ? writeErrors.every(isDuplicateKey) : isDuplicateKey(error);
        if (!onlyDuplicates) throw error;
      }
    },
    async count(table) {
      const embedded = EMBEDDED[table.name];
      if (!embedded) return collection(table.name).countDocuments();
      const [total] = await collection(embedded.parent)
        .aggregate<{ n: number }>([{ $group: { _id: null, n: { $sum: { $size: `$${embedded.field}` } } } }])
        .toArray();
      return total?.n ?? 0;
    },
    close: () => mongo.client.close(),
  };
}
