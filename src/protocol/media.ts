import { z } from 'zod';
import { idSchema, type Timestamp } from './common.js';

/**
 * Media attachments (docs/api/media.md): uploads, their metadata as messages carry it, and signed
 * download URLs.
 */

/** What an attachment is, from its sniffed bytes: an image, audio, video, or any other file. */
export const MEDIA_KINDS = ['image', 'audio', 'video', 'file'] as const;
export type MediaKind = (typeof MEDIA_KINDS)[number];

/** Attachments one message may carry. */
export const MAX_ATTACHMENTS = 10;

/** Characters of a file name kept (longer ones are cut). */
const FILE_NAME_LENGTH = 200;

/**
 * A client's file name as it may be shown and offered for saving: the last path segment, without
 * control characters or characters no file system takes, cut to 200 characters; null when nothing is left.
 */
export function cleanFileName(raw: string | undefined): string | null {
  const base = (raw ?? '').split(/[/\\]/).pop() ?? '';
  // eslint-disable-next-line no-control-regex
  const cleaned = [...base.replace(/[\u0000-\u001f\u007f<>:"|?*\p{Cs}]/gu, '').trim()].slice(0, FILE_NAME_LENGTH).join('');
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? null : cleaned;
}

export const attachmentIdsSchema = z
  .array(idSchema)
  .min(1, 'must name at least one upload (or leave attachments out)')
  .max(MAX_ATTACHMENTS, `at most ${MAX_ATTACHMENTS} attachments per message`)
  .refine((ids) => new Set(ids).size === ids.length, 'must not name an upload twice');

export const mediaParams = z.object({ id: idSchema });

/** `POST /api/media?encrypted=true`: the file is an end-to-end encrypted blob, stored and served as opaque bytes. */
export const uploadQuery = z.object({ encrypted: z.stringbool().default(false) });

/** `POST /api/media/uploads`: a direct upload to the S3 store of exactly `size` bytes. */
export const directUploadBody = z.object({
  size: z.int('must be a whole number of bytes').positive('must be at least one byte'),
  encrypted: z.boolean().default(false),
  name: z.string().max(1000).optional().transform(cleanFileName),
});

export interface ThumbnailDto {
  width: number;
  height: number;
  contentType: string;
}

/** An attachment as messages carry it: immutable once its upload is complete. */
export interface AttachmentDto {
  id: string;
  kind: MediaKind;
  /** Sniffed from the bytes (`application/octet-stream` when not recognised, and for encrypted uploads). */
  contentType: string;
  /** Bytes, as stored (images after their metadata was stripped). */
  size: number;
  /** The uploader's file name, cleaned; null for encrypted uploads and when none was sent. */
  name: string | null;
  /** Images only: pixels of the stored (upright) image. */
  width: number | null;
  height: number | null;
  /** Audio and video, where it can be read. */
  durationMs: number | null;
  /** Images only: fetch it through `GET /api/media/:id` (`thumbnailUrl`). */
  thumbnail: ThumbnailDto | null;
  /** An end-to-end encrypted blob: the keys travel in the message's encrypted payload. */
  encrypted: boolean;
}

/** An upload as its uploader and the members who may fetch it see it. */
export interface MediaDto extends AttachmentDto {
  /** `uploading` until a direct upload is completed; `ready` to attach (or attached). */
  status: 'uploading' | 'ready';
  /** The message that carries it; null until it is attached. */
  messageId: string | null;
  createdAt: Timestamp;
}

export interface MediaResponse {
  media: MediaDto;
}

/** `GET /api/media/:id`: where to fetch the bytes, until `expiresAt`. */
export interface MediaAccessResponse {
  media: MediaDto;
  url: string;
  /** Images only. */
  thumbnailUrl: string | null;
  expiresAt: Timestamp;
}

/** `POST /api/media/uploads`: send the bytes to `upload.url`, then `POST /api/media/:id/complete`. */
export interface DirectUploadResponse {
  media: MediaDto;
  upload: { method: 'PUT'; url: string; headers: Record<string, string>; expiresAt: Timestamp };
}

export type DirectUploadBody = z.input<typeof directUploadBody>;
export type DirectUploadInput = z.output<typeof directUploadBody>;
