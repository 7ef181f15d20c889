import { presentAttachment } from '../media/media-presenter.js';
import type { MessageDto } from '../protocol/chat.js';
import type { MessageRecord } from '../storage/ports.js';

export function presentMessage(message: MessageRecord): MessageDto {
  return {
    id: message.id,
    conversationId: message.conversationId,
    from: message.senderId,
    to: message.recipientId,
    text: message.text,
    ...(message.encrypted ? { encrypted: message.encrypted } : {}),
    ...(message.attachments ? { attachments: message.attachments.map(presentAttachment) } : {}),
    clientMessageId: message.clientMessageId,
    createdAt: message.createdAt.toISOString(),
    deliveredAt: message.deliveredAt?.toISOString() ?? null,
    readAt: message.readAt?.toISOString() ?? null,
    editedAt: message.editedAt?.toISOString() ?? null,
    deletedAt: message.deletedAt?.toISOString() ?? null,
    deletedBy: message.deletedBy,
    replyTo: message.replyTo && {
      id: message.replyTo.id,
      from: message.replyTo.senderId,
      text: message.replyTo.text,
      encrypted: message.replyTo.encrypted,
      deleted: message.replyTo.deleted,
    },
    reactions: message.reactions,
    revision: message.revision,
  };
}
