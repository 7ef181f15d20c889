import { sql, type Kysely, type Selectable } from 'kysely';
import type { AttachmentRecord } from '../../media/media-store.js';
import { GroupCommit } from '../../shared/group-commit.js';
import { InFlight } from '../../shared/in-flight.js';
import type { Logger } from '../../shared/logger.js';
import { REPLY_PREVIEW_LENGTH } from '../../protocol/chat.js';
import type { CreateMessageResult, MessageRecord, NewMessage } from '../ports.js';
import { setNewChangePosition } from './change-positions.js';
import { toAttachment } from './media-repository.js';
import { messageColumns, toMessage, type MessageRow } from './message-rows.js';
import type { Database, MediaTable } from './schema.js';

const MAX_BATCH_SIZE = 500;

export interface MessageWritesOptions {
  /**
   * Where batches run: connections that wait only briefly for a row lock (a failed batch's messages are
   * then written one by one, on the main pool, waiting as long as it takes).
   */
  batchDb: Kysely<Database>;
  /** Batches in flight at once. */
  concurrency: number;
  logger: Logger;
}

/** What the insert says of each message, in the order they came. */
interface InsertOutcome {
  is_member: boolean;
  reachable: boolean | null;
  /** The sender blocks the other member of the direct conversation. */
  blocking: boolean;
  reply_found: boolean;
  reply_sender_id: string | null;
  reply_text: string | null;
  reply_encrypted: boolean | null;
  recipient_id: string | null;
  created: boolean;
}

/** A message with its attachments resolved: what the insert writes. */
type MessageToInsert = NewMessage & { attachments?: AttachmentRecord[] | undefined };

/**
 * Stores messages with group commit: concurrent sends share one statement and one commit (see
 * GroupCommit), and every message is acknowledged only after the commit that stored it. A message with
 * attachments takes a transaction of its own (attachWrite), so the others never wait for media rows.
 */
export function createMessageWrites(db: Kysely<Database>, options: MessageWritesOptions) {
  const { batchDb } = options;
  const writes = new GroupCommit<NewMessage, CreateMessageResult>({
    concurrency: options.concurrency,
    maxBatchSize: MAX_BATCH_SIZE,
    writeOne: async (message) => (await outcomes(db, [message], await insert(db, [message])))[0]!,
    writeBatch: async (messages) => outcomes(db, messages, await insert(batchDb, messages)),
    onBatchFailed: (error, size) => options.logger.debug({ err: error, size }, 'message batch failed: writing its messages one by one'),
  });
  const attaching = new InFlight();
  return {
    create(message: NewMessage): Promise<CreateMessageResult> {
      if (!message.attachmentIds?.length) return writes.submit(message);
      const write = writeWithAttachments(db, message, message.attachmentIds);
      attaching.track(write);
      return write;
    },
    async drain() {
      await writes.drain();
      await attaching.drain();
    },
  };
}

/** Thrown inside the transaction to roll it back with this outcome. */
class Refused {
  constructor(readonly result: CreateMessageResult) {}
}

/**
 * One transaction: the sender's media are locked (a racing send of the same media waits here, then
 * finds them taken), the message is inserted carrying what it shows of them, and they are attached to
 * it. Anything short of that rolls back: nothing stored, nothing attached. A retry finds its media
 * attached to the message it retries, and is answered that message.
 */
async function writeWithAttachments(db: Kysely<Database>, message: NewMessage, ids: readonly string[]): Promise<CreateMessageResult> {
  try {
    return await db.transaction().execute(async (trx) => {
      const { rows } = await sql<Selectable<MediaTable>>`
        select * from media
        where id = any(${ids}::uuid[]) and owner_id = ${message.senderId} and status = 'ready' and attached_at is null
          and discarded_at is null and encrypted = ${message.encrypted !== undefined}
        order by id for update`.execute(trx);
      if (rows.length !== ids.length) throw new Refused((await earlierSends(trx, [message])).get(retryKey(message)) ?? { outcome: 'attachmentsUnavailable' });
      const byId = new Map(rows.map((row) => [row.id, toAttachment(row)]));
      const toInsert: MessageToInsert = { ...message, attachments: ids.map((id) => byId.get(id)!) };
      const [result] = await outcomes(trx, [toInsert], await insert(trx, [toInsert]));
      if (result!.outcome !== 'stored' || !result!.created) throw new Refused(result!);
      await trx.updateTable('media').set({ message_id: message.id, attached_at: message.createdAt }).where('id', 'in', ids).execute();
      return result!;
    });
  } catch (error) {
    if (error instanceof Refused) return error.result;
    throw error;
  }
}

/**
 * One statement for any number of messages: the sender must be a current member, a reply must answer a
 * message of the same conversation that the sender may see, and the other member of a direct
 * conversation (the message's recipient) must be an active account in no block with the sender either
 * way (two probes of user_blocks' primary key, in this statement: a send costs no extra round trip
 * for them). A message is inserted at most
 * once per (sender, clientMessageId): a racing retry waits for the first to commit and inserts nothing.
 * The sender's first message in a conversation marks their member row as having written. Nothing is
 * written to the conversation row: its last message is read from the history index. The replied-to
 * message is a lateral subquery with `limit 1` (which the planner cannot flatten into a join): a
 * primary-key probe per message even when statistics lag the messages table, where a join was planned
 * as a scan of every message per batch.
 */
async function insert(executor: Kysely<Database>, messages: readonly MessageToInsert[]): Promise<InsertOutcome[]> {
  const column = <K extends keyof NewMessage>(key: K) => messages.map((message) => message[key]);
  const encrypted = messages.map((message) => (message.encrypted ? JSON.stringify(message.encrypted) : null));
  const attachments = messages.map((message) => (message.attachments ? JSON.stringify(message.attachments) : null));
  const replyTo = messages.map((message) => message.replyToId ?? null);
  const { rows } = await sql<InsertOutcome>`
    with input as (
      select * from unnest(
        ${column('id')}::uuid[], ${column('conversationId')}::uuid[], ${column('senderId')}::uuid[],
        ${column('text')}::text[], ${encrypted}::jsonb[], ${attachments}::jsonb[], ${column('clientMessageId')}::text[],
        ${column('createdAt')}::timestamptz[], ${replyTo}::uuid[]
      ) with ordinality as input (id, conversation_id, sender_id, text, encrypted, attachments, client_message_id, created_at, reply_to_id, ord)
    ),
    checked as (
      select input.*, sender.user_id is not null as is_member, peer.user_id as recipient_id,
        c.type = 'group' or (peer_account.status = 'active'
          and not exists (select 1 from user_blocks b where b.blocker_id = peer.user_id and b.blocked_id = input.sender_id)) as reachable,
        coalesce(c.type = 'direct' and exists (select 1 from user_blocks b where b.blocker_id = input.sender_id and b.blocked_id = peer.user_id), false) as blocking,
        input.reply_to_id is null or reply.id is not null as reply_found,
        reply.sender_id as reply_sender_id, left(reply.text, ${sql.lit(REPLY_PREVIEW_LENGTH)}) as reply_text, reply.encrypted is not null as reply_encrypted
      from input
      left join conversations c on c.id = input.conversation_id
      left join conversation_members sender
        on sender.conversation_id = input.conversation_id and sender.user_id = input.sender_id and sender.left_at is null
      left join conversation_members peer
        on c.type = 'direct' and sender.user_id is not null and peer.conversation_id = input.conversation_id and peer.user_id <> input.sender_id
      left join users peer_account on peer_account.id = peer.user_id
      left join lateral (
        select r.id, r.sender_id, r.text, r.encrypted from messages r
        where r.id = input.reply_to_id and r.conversation_id = input.conversation_id and r.deleted_at is null
          and not exists (select 1 from message_hides h where h.user_id = input.sender_id and h.message_id = r.id)
        limit 1
      ) reply on true
    ),
    inserted as (
      insert into messages (id, conversation_id, sender_id, recipient_id, text, encrypted, attachments, client_message_id, created_at, reply_to_id)
      select id, conversation_id, sender_id, recipient_id, text, encrypted, attachments, client_message_id, created_at, reply_to_id from checked
      where is_member and reachable and not blocking and reply_found
      order by ord
      on conflict (sender_id, client_message_id) do nothing
      returning id, conversation_id, sender_id
    ),
    first_write as (
      update conversation_members m set has_written = true, ${setNewChangePosition}
      from (select distinct conversation_id, sender_id from inserted) w
      where m.conversation_id = w.conversation_id and m.user_id = w.sender_id and not m.has_written
    )
    select checked.is_member, checked.reachable, checked.blocking, checked.reply_found, checked.reply_sender_id, checked.reply_text,
      checked.reply_encrypted, checked.recipient_id, inserted.id is not null as created
    from checked left join inserted on inserted.id = checked.id
    order by checked.ord`.execute(executor);
  return rows;
}

/**
 * Each message's result. A retry's is the message stored first under its clientMessageId, even when
 * the sender has left the conversation since.
 */
async function outcomes(db: Kysely<Database>, messages: readonly MessageToInsert[], inserted: InsertOutcome[]): Promise<CreateMessageResult[]> {
  const earlierOf = await earlierSends(db, messages.filter((_message, index) => !inserted[index]!.created));
  return messages.map((message, index): CreateMessageResult => {
    const outcome = inserted[index]!;
    if (outcome.created) return { outcome: 'stored', created: true, message: storedMessage(message, outcome) };
    const first = earlierOf.get(retryKey(message));
    if (first) return first;
    if (!outcome.is_member) return { outcome: 'notMember' };
    if (!outcome.reachable) return { outcome: 'recipientUnavailable' };
    if (outcome.blocking) return { outcome: 'recipientBlocked' };
    if (!outcome.reply_found) return { outcome: 'noSuchReply' };
    throw new Error(`message ${message.id} was neither inserted nor a retry`);
  });
}

const retryKey = (message: NewMessage) => `${message.senderId} ${message.clientMessageId}`;

/** What each of `messages` that has a clientMessageId answers as a retry: the message stored first under it, by retryKey. */
async function earlierSends(db: Kysely<Database>, messages: readonly NewMessage[]): Promise<Map<string, CreateMessageResult>> {
  const retries = messages.filter((message) => message.clientMessageId !== null);
  if (retries.length === 0) return new Map();
  const { rows } = await sql<MessageRow>`
    select ${messageColumns('m')} from messages m
    join unnest(${retries.map((message) => message.senderId)}::uuid[], ${retries.map((message) => message.clientMessageId)}::text[])
      as retry (sender_id, client_message_id)
      on m.sender_id = retry.sender_id and m.client_message_id = retry.client_message_id`.execute(db);
  return new Map(rows.map((row) => [`${row.sender_id} ${row.client_message_id}`, { outcome: 'stored', created: false, message: toMessage(row) }]));
}

/** A message as the insert stored it (its fields named one by one: an object rest copy costs microseconds on this hot path). */
function storedMessage(message: MessageToInsert, outcome: InsertOutcome): MessageRecord {
  const { replyToId } = message;
  return {
    id: message.id,
    conversationId: message.conversationId,
    senderId: message.senderId,
    recipientId: outcome.recipient_id,
    text: message.text,
    ...(message.encrypted ? { encrypted: message.encrypted } : {}),
    ...(message.attachments ? { attachments: message.attachments } : {}),
    clientMessageId: message.clientMessageId,
    createdAt: message.createdAt,
    deliveredAt: null,
    readAt: null,
    editedAt: null,
    deletedAt: null,
    deletedBy: null,
    replyTo: replyToId
      ? { id: replyToId, senderId: outcome.reply_sender_id!, text: outcome.reply_text ?? '', encrypted: outcome.reply_encrypted ?? false, deleted: false }
      : null,
    reactions: [],
    revision: 0,
  };
}
