import { sql, type Selectable } from 'kysely';
import { REACTION_USERS_LISTED, REPLY_PREVIEW_LENGTH } from '../../protocol/chat.js';
import type { MessageRecord, ReactionRecord, ReplyPreviewRecord } from '../ports.js';
import type { MessagesTable } from './schema.js';

export type MessageRow = Omit<Selectable<MessagesTable>, 'change_xid' | 'change_pos'> & {
  reply_to: ReplyPreviewRecord | null;
  reactions: ReactionRecord[];
};

/**
 * What a message record is made of besides its row, for the messages row aliased `alias`: the preview of
 * the message it replies to, as that one is now, and its reactions grouped by emoji (one probe of each
 * primary key). Select it with the row: `${sql.ref(alias)}.*, ${messageDetails(alias)}`.
 */
export const messageDetails = (alias: string) => {
  const [replyToId, id] = [sql.ref(`${alias}.reply_to_id`), sql.ref(`${alias}.id`)];
  return sql`(
      select json_build_object('id', r.id, 'senderId', r.sender_id, 'text', left(r.text, ${sql.lit(REPLY_PREVIEW_LENGTH)}),
        'encrypted', r.encrypted is not null, 'deleted', r.deleted_at is not null)
      from messages r where r.id = ${replyToId}
    ) as reply_to,
    (
      select coalesce(json_agg(json_build_object('emoji', g.emoji, 'count', g.count, 'userIds', g.user_ids) order by g.first_at, g.emoji), '[]')
      from (
        select emoji, count(*)::int as count, min(created_at) as first_at,
          (array_agg(user_id order by created_at, user_id))[1:${sql.lit(REACTION_USERS_LISTED)}] as user_ids
        from message_reactions where message_id = ${id} group by emoji
      ) g
    ) as reactions`;
};

/** Every column of the messages row aliased `alias`, with its details. */
export const messageColumns = (alias: string) => sql`${sql.ref(alias)}.*, ${messageDetails(alias)}`;

export function toMessage(row: MessageRow): MessageRecord {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    senderId: row.sender_id,
    recipientId: row.recipient_id,
    text: row.text,
    ...(row.encrypted ? { encrypted: row.encrypted } : {}),
    ...(row.attachments ? { attachments: row.attachments } : {}),
    clientMessageId: row.client_message_id,
    createdAt: row.created_at,
    deliveredAt: row.delivered_at,
    readAt: row.read_at,
    editedAt: row.edited_at,
    deletedAt: row.deleted_at,
    deletedBy: row.deleted_by,
    replyTo: row.reply_to,
    reactions: row.reactions,
    revision: row.revision,
  };
}
