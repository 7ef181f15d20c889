import type { AttachmentDto, MediaDto } from '../protocol/media.js';
import { THUMBNAIL_TYPE } from './media-kinds.js';
import type { AttachmentRecord, MediaRecord } from './media-store.js';

export function presentAttachment(attachment: AttachmentRecord): AttachmentDto {
  return {
    id: attachment.id,
    kind: attachment.kind,
    contentType: attachment.contentType,
    size: attachment.size,
    name: attachment.fileName,
    width: attachment.width,
    height: attachment.height,
    durationMs: attachment.durationMs,
    encrypted: attachment.encrypted,
    thumbnail: attachment.thumbnail && { ...attachment.thumbnail, contentType: THUMBNAIL_TYPE },
  };
}

export function presentMedia(media: MediaRecord): MediaDto {
  return { ...presentAttachment(media), status: media.status, messageId: media.messageId, createdAt: media.createdAt.toISOString() };
}
