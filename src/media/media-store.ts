/**
 * What the media feature stores, in its own words: one record per upload, owned by its uploader and
 * attached to at most one message (attaching happens in the message's own write: MessagesRepository.create).
 * Adapters live in src/storage/ (PostgreSQL, MongoDB).
 */
import type { MediaKind } from '../protocol/media.js';

/** What a message keeps of each of its attachments: fixed once the upload was processed. */
export interface AttachmentRecord {
  id: string;
  kind: MediaKind;
  contentType: string;
  size: number;
  fileName: string | null;
  width: number | null;
  height: number | null;
  durationMs: number | null;
  encrypted: boolean;
  thumbnail: { width: number; height: number } | null;
}

/** What processing an upload finds out. */
export type MediaDetails = Pick<AttachmentRecord, 'kind' | 'contentType' | 'size' | 'width' | 'height' | 'durationMs' | 'thumbnail'>;

export interface MediaRecord extends AttachmentRecord {
  ownerId: string;
  /** `uploading`: a direct upload not yet confirmed (its size is the one declared). */
  status: 'uploading' | 'ready';
  messageId: string | null;
  createdAt: Date;
}

export type NewMedia = Omit<MediaRecord, 'messageId'>;

/** How much one user may upload: uploads made since `since`, and bytes held, at most. */
export interface UploadBudget {
  maxUploads: number;
  since: Date;
  maxBytes: number;
}

export type CreateMediaResult = 'created' | 'tooManyUploads' | 'quotaExceeded';

/** A record whose blobs are to be removed (its message or its owner went, or it was never attached). */
export interface DiscardedMedia {
  id: string;
  status: MediaRecord['status'];
  hasThumbnail: boolean;
}

export interface MediaStore {
  /**
   * Stores a new record if the owner's budget allows it, atomically against the owner's other uploads:
   * two racing uploads never both take the last of a quota.
   */
  create(media: NewMedia, budget: UploadBudget): Promise<CreateMediaResult>;
  /** The owner's uploads since `since` and the bytes they hold (neither counts discarded media). */
  usage(ownerId: string, since: Date): Promise<{ uploads: number; bytes: number }>;
  /** A media record that is not discarded, whoever may see it. */
  findById(id: string): Promise<MediaRecord | null>;
  /**
   * The media if `viewerId` may fetch it: ready and not discarded, and either its uploader's (while it is
   * unattached or its message exists) or attached to a message of a conversation the viewer is a current
   * member of. Media whose message is gone is nobody's.
   */
  findAccessible(id: string, viewerId: string): Promise<MediaRecord | null>;
  /** Completes a direct upload: the owner's `uploading` record becomes ready with what processing found. */
  markReady(id: string, ownerId: string, details: MediaDetails): Promise<MediaRecord | null>;
  /** Marks all of the owner's media discarded; returns how many. */
  discardByOwner(ownerId: string): Promise<number>;
  /**
   * Marks discarded up to `limit` uploads made before `createdBefore` that were never attached, and any
   * media whose message no longer exists; returns how many.
   */
  discardUnattached(createdBefore: Date, limit: number): Promise<number>;
  /** Up to `limit` discarded records, oldest first, for their blobs to be removed. */
  listDiscarded(limit: number): Promise<DiscardedMedia[]>;
  /** Deletes these records for good (after their blobs were removed). */
  delete(ids: readonly string[]): Promise<void>;
}
