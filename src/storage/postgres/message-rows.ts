import type { Selectable } from 'kysely';
import type { MessageRecord } from '../ports.js';
import type { MessagesTable } from './schema.js';

export type MessageRow = Omit<Selectable<MessagesTable>, 'change_xid' | 'change_pos'>;

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
  };
}
