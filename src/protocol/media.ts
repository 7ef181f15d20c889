import { z } from 'zod';
import { idSchema, timestampSchema, wireIdSchema } from './common.js';

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

/** `GET /api/media/blob/:key` (the local store's downloads): the signed fields of a URL from `GET /api/media/:id`. */
export const blobParams = z.object({ key: z.string() });
export const blobQuery = z.object({ expires: z.string().regex(/^\d{1,12}$/), type: z.string().max(200), disposition: z.string().max(2000), signature: z.string().max(100) });

/** `POST /api/media?encrypted=true`: the file is an end-to-end encrypted blob, stored and served as opaque bytes. */
export const uploadQuery = z.object({ encrypted: z.stringbool().default(false) });

/** `POST /api/media/uploads`: a direct upload to the S3 store of exactly `size` bytes. */
export const directUploadBody = z.object({
  size: z.int('must be a whole number of bytes').positive('must be at least one byte'),
  encrypted: z.boolean().default(false),
  name: z.string().max(1000).optional().transform(cleanFileName),
});

export const thumbnailSchema = z.object({ width: z.int().positive(), height: z.int().positive(), contentType: z.string() });

/** An attachment as messages carry it: immutable once its upload is complete. */
export const attachmentSchema = z.object({
  id: wireIdSchema,
  kind: z.enum(MEDIA_KINDS),
  contentType: z.string().meta({ description: 'Sniffed from the bytes (`application/octet-stream` when not recognised, and for encrypted uploads).' }),
  size: z.int().min(0).meta({ description: 'Bytes, as stored (images after their metadata was stripped).' }),
  name: z.string().nullable().meta({ description: "The uploader's file name, cleaned; null for encrypted uploads and when none was sent." }),
  width: z.int().nullable().meta({ description: 'Images only: pixels of the stored (upright) image.' }),
  height: z.int().nullable(),
  durationMs: z.number().nullable().meta({ description: 'Audio and video, where it can be read.' }),
  thumbnail: thumbnailSchema.nullable().meta({ description: 'Images only: fetch it through `GET /api/media/:id` (`thumbnailUrl`).' }),
  encrypted: z.boolean().meta({ description: "An end-to-end encrypted blob: the keys travel in the message's encrypted payload." }),
});

/** An upload as its uploader and the members who may fetch it see it. */
export const mediaSchema = attachmentSchema.extend({
  status: z.enum(['uploading', 'ready']).meta({ description: '`uploading` until a direct upload is completed; `ready` to attach (or attached).' }),
  messageId: wireIdSchema.nullable().meta({ description: 'The message that carries it; null until it is attached.' }),
  createdAt: timestampSchema,
});

export const mediaResponseSchema = z.object({ media: mediaSchema });

/** `GET /api/media/:id`: where to fetch the bytes, until `expiresAt`. */
export const mediaAccessResponseSchema = z.object({
  media: mediaSchema,
  url: z.string(),
  thumbnailUrl: z.string().nullable().meta({ description: 'Images only.' }),
  expiresAt: timestampSchema,
});

/** `POST /api/media/uploads`: send the bytes to `upload.url`, then `POST /api/media/:id/complete`. */
export const directUploadResponseSchema = z.object({
  media: mediaSchema,
  upload: z.object({ method: z.literal('PUT'), url: z.string(), headers: z.record(z.string(), z.string()), expiresAt: timestampSchema }),
});

export type ThumbnailDto = z.infer<typeof thumbnailSchema>;
export type AttachmentDto = z.infer<typeof attachmentSchema>;
export type MediaDto = z.infer<typeof mediaSchema>;
export type MediaResponse = z.infer<typeof mediaResponseSchema>;
export type MediaAccessResponse = z.infer<typeof mediaAccessResponseSchema>;
export type DirectUploadResponse = z.infer<typeof directUploadResponseSchema>;
export type DirectUploadBody = z.input<typeof directUploadBody>;
export type DirectUploadInput = z.output<typeof directUploadBody>;
