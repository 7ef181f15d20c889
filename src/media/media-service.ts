import { rm } from 'node:fs/promises';
import path from 'node:path';
import { create as contentDisposition } from 'content-disposition';
import { fileTypeFromFile } from 'file-type';
import pLimit from 'p-limit';
import type { MediaConfig } from '../config/config.js';
import type { DirectUploadInput, DirectUploadResponse, MediaAccessResponse, MediaDto, MediaKind } from '../protocol/media.js';
import { AppError } from '../shared/app-error.js';
import type { DomainEvents } from '../shared/domain-events.js';
import { newId } from '../shared/ids.js';
import { InFlight } from '../shared/in-flight.js';
import { inBatches } from '../shared/periodic.js';
import type { Logger } from '../shared/logger.js';
import { thumbnailKey, uploadKey, type BlobResponse, type BlobStore } from './blob-store.js';
import { classify, OPAQUE_TYPE, servedInline, THUMBNAIL_TYPE } from './media-kinds.js';
import { presentMedia } from './media-presenter.js';
import { processUpload, type Processed } from './media-processing.js';
import type { CreateMediaResult, DiscardedMedia, MediaRecord, MediaStore } from './media-store.js';
import { tempName, type ReceivedFile } from './upload-receiver.js';

export interface MediaServiceDeps {
  store: MediaStore;
  blobs: BlobStore;
  events: DomainEvents;
  logger: Logger;
  config: Pick<MediaConfig, 'maxBytes' | 'imageMaxPixels' | 'quotaBytes' | 'uploadsPerDay' | 'urlTtlSeconds' | 'tempDir'>;
  now?: () => Date;
}

const DAY_MS = 86_400_000;
/** Images decoded at once: each may take a core and its pixels' worth of memory. */
const PROCESSING_CONCURRENCY = 2;
/** Discarded records whose blobs are removed together. */
const REMOVAL_BATCH = 100;

const noSuchMedia = () => new AppError('NOT_FOUND', 'No such media');

/** Every blob a record may have: the media, its thumbnail, and a direct upload not yet confirmed. */
const blobKeys = (media: DiscardedMedia) => [media.id, ...(media.hasThumbnail ? [thumbnailKey(media.id)] : []), ...(media.status === 'uploading' ? [uploadKey(media.id)] : [])];

/**
 * Uploads, their access and their removal. A record is made before its blob is stored and becomes
 * `ready` (attachable) only once every blob of it is complete, so nothing can point at half a file; a
 * record that never gets there is removed with the uploads never attached. Removing media marks the
 * records discarded first (nobody may fetch them from then on), then removes the blobs, then the records;
 * what a failure leaves marked the cleanup finishes.
 */
export class MediaService {
  private readonly now: () => Date;
  private readonly processing = pLimit(PROCESSING_CONCURRENCY);
  private readonly background = new InFlight();
  private readonly onAccountChanged = ({ userId, status }: { userId: string; status: string }) => {
    if (status === 'deleted') this.background.track(this.discardOwnedBy(userId));
  };
  /** A removal of discarded media under way for deleted messages, and whether more were deleted since it began. */
  private removal: Promise<void> | undefined;
  private removalWanted = false;
  /**
   * The delete discarded the messages' media as it was stored; their bytes go now (or at the next
   * cleanup). One removal runs at a time: deletes heard while it runs start one more pass after it,
   * not a sweep each.
   */
  private readonly onMessagesDeleted = () => {
    this.removalWanted = true;
    if (this.removal) return;
    this.removal = (async () => {
      while (this.removalWanted) {
        this.removalWanted = false;
        await this.removeDiscarded().catch((error: unknown) => this.deps.logger.warn({ err: error }, 'could not remove the media of deleted messages yet; the cleanup will'));
      }
    })().finally(() => {
      this.removal = undefined;
    });
    this.background.track(this.removal);
  };

  constructor(private readonly deps: MediaServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /** The largest upload of any kind. */
  get maxUploadBytes(): number {
    return Math.max(...Object.values(this.deps.config.maxBytes));
  }

  start(): void {
    this.deps.events.on('accountChanged', this.onAccountChanged);
    this.deps.events.on('messagesDeleted', this.onMessagesDeleted);
  }

  async stop(timeoutMs: number): Promise<void> {
    this.deps.events.off('accountChanged', this.onAccountChanged);
    this.deps.events.off('messagesDeleted', this.onMessagesDeleted);
    await this.background.drain(timeoutMs);
  }

  /** Refuses at once an upload the user's budget cannot take, before its bytes are read. */
  async checkBudget(ownerId: string, size = 0): Promise<void> {
    const used = await this.deps.store.usage(ownerId, this.dayAgo());
    if (used.uploads >= this.deps.config.uploadsPerDay) this.refuse('tooManyUploads');
    if (used.bytes + size > this.deps.config.quotaBytes) this.refuse('quotaExceeded');
  }

  /** Stores a received upload (its temporary file is consumed) and answers the ready media. */
  async upload(ownerId: string, received: ReceivedFile, encrypted: boolean): Promise<MediaDto> {
    let processed: Processed | undefined;
    try {
      if (received.size === 0) throw new AppError('VALIDATION_FAILED', 'The file is empty', { details: [{ path: 'file', message: 'must not be empty' }] });
      processed = encrypted ? unprocessed(received) : await this.processing(() => processUpload(received, this.deps.config));
      const media: MediaRecord = {
        id: newId(),
        ownerId,
        status: 'uploading',
        ...processed.details,
        fileName: received.fileName,
        encrypted,
        messageId: null,
        createdAt: this.now(),
      };
      const created = await this.deps.store.create(media, this.budget());
      if (created !== 'created') this.refuse(created);
      const stored = processed;
      const ready = await this.storeBlobs(media, stored).catch(async (error: unknown) => {
        // Nobody will send these bytes again under this id: the record goes now rather than after the orphan TTL.
        await this.discard([{ id: media.id, status: 'uploading', hasThumbnail: stored.thumbnailPath !== null }]).catch(() => undefined);
        throw error;
      });
      return presentMedia(ready);
    } finally {
      await removeFiles(received.path, processed?.path, processed?.thumbnailPath);
    }
  }

  /** S3: a record of `size` bytes to come, and where the client PUTs them. */
  async startDirectUpload(ownerId: string, input: DirectUploadInput): Promise<DirectUploadResponse> {
    const direct = this.deps.blobs.direct;
    if (!direct) throw new AppError('NOT_FOUND', 'Direct uploads need the S3 media store: send the file to POST /api/media');
    if (input.size > this.maxUploadBytes) throw new AppError('PAYLOAD_TOO_LARGE', `Files may have at most ${this.maxUploadBytes} bytes`);
    const media: MediaRecord = {
      id: newId(),
      ownerId,
      status: 'uploading',
      kind: 'file',
      contentType: OPAQUE_TYPE,
      size: input.size,
      fileName: input.encrypted ? null : (input.name ?? null),
      width: null,
      height: null,
      durationMs: null,
      thumbnail: null,
      encrypted: input.encrypted,
      messageId: null,
      createdAt: this.now(),
    };
    const created = await this.deps.store.create(media, this.budget());
    if (created !== 'created') this.refuse(created);
    const expiresAt = this.expiry();
    const upload = await direct.uploadUrl(uploadKey(media.id), input.size, expiresAt);
    return { media: presentMedia(media), upload: { method: 'PUT', ...upload, expiresAt: expiresAt.toISOString() } };
  }

  /** S3: the client says its PUT is done; the object is checked and processed like any upload. */
  async completeDirectUpload(ownerId: string, id: string): Promise<MediaDto> {
    const direct = this.deps.blobs.direct;
    const media = await this.deps.store.findById(id);
    if (!direct || !media || media.ownerId !== ownerId) throw noSuchMedia();
    if (media.status === 'ready') return presentMedia(media);
    const tempPath = path.join(this.deps.config.tempDir, tempName());
    let processed: Processed | undefined;
    try {
      const size = await direct.download(uploadKey(id), tempPath, media.size);
      if (size !== media.size) {
        throw new AppError('VALIDATION_FAILED', `Upload exactly ${media.size} bytes to the upload URL first`, { details: [{ path: 'upload', message: 'nothing complete was uploaded yet' }] });
      }
      const classified = classify(media.encrypted ? undefined : await fileTypeFromFile(tempPath), media.encrypted);
      if ('refused' in classified) {
        await this.discard([{ id, status: 'uploading', hasThumbnail: false }]);
        throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Files of this type (${classified.refused}) cannot be sent`);
      }
      const limit = media.encrypted ? this.maxUploadBytes : this.deps.config.maxBytes[classified.kind];
      if (size > limit) {
        await this.discard([{ id, status: 'uploading', hasThumbnail: false }]);
        throw new AppError('PAYLOAD_TOO_LARGE', `The file is larger than ${limit} bytes, the most this kind of file may have`);
      }
      const received = { path: tempPath, size, ...classified };
      processed = media.encrypted ? unprocessed(received) : await this.processing(() => processUpload(received, this.deps.config));
      const ready = await this.storeBlobs({ ...media, ...processed.details }, processed);
      await this.deps.blobs.remove([uploadKey(id)]);
      return presentMedia(ready);
    } finally {
      await removeFiles(tempPath, processed?.path, processed?.thumbnailPath);
    }
  }

  /** Short-lived URLs of the media's bytes (and thumbnail), for its uploader and the members of its message's conversation. */
  async access(viewerId: string, id: string): Promise<MediaAccessResponse> {
    const media = await this.deps.store.findAccessible(id, viewerId);
    if (!media) throw noSuchMedia();
    const expiresAt = this.expiry();
    const [url, thumbnailUrl] = await Promise.all([
      this.deps.blobs.signedUrl(id, responseOf(media), expiresAt),
      media.thumbnail ? this.deps.blobs.signedUrl(thumbnailKey(id), { contentType: THUMBNAIL_TYPE, disposition: 'inline' }, expiresAt) : null,
    ]);
    return { media: presentMedia(media), url, thumbnailUrl, expiresAt: expiresAt.toISOString() };
  }

  /** Removes every upload of a deleted account. */
  async discardOwnedBy(ownerId: string): Promise<void> {
    const marked = await this.deps.store.discardByOwner(ownerId);
    if (marked > 0) await this.removeDiscarded();
  }

  /** Removes the blobs and then the records of all discarded media (until `stopping`); resolves with how many. */
  removeDiscarded(stopping: () => boolean = () => false): Promise<number> {
    return inBatches(
      REMOVAL_BATCH,
      async (limit) => {
        const batch = await this.deps.store.listDiscarded(limit);
        await this.discard(batch);
        return batch.length;
      },
      stopping,
    );
  }

  private async discard(records: readonly DiscardedMedia[]): Promise<void> {
    if (records.length === 0) return;
    await this.deps.blobs.remove(records.flatMap(blobKeys));
    await this.deps.store.delete(records.map((record) => record.id));
  }

  /** Puts the processed blobs under the record's id and makes it ready. */
  private async storeBlobs(media: MediaRecord, processed: Processed): Promise<MediaRecord> {
    const { blobs } = this.deps;
    await blobs.put(media.id, { path: processed.path, contentType: processed.details.contentType });
    if (processed.thumbnailPath) await blobs.put(thumbnailKey(media.id), { path: processed.thumbnailPath, contentType: THUMBNAIL_TYPE });
    const ready = await this.deps.store.markReady(media.id, media.ownerId, processed.details);
    // Discarded meanwhile (the account was deleted): its blobs go with it.
    if (!ready) {
      await this.removeDiscarded();
      throw noSuchMedia();
    }
    return ready;
  }

  private budget() {
    return { maxUploads: this.deps.config.uploadsPerDay, since: this.dayAgo(), maxBytes: this.deps.config.quotaBytes };
  }

  private refuse(outcome: Exclude<CreateMediaResult, 'created'>): never {
    if (outcome === 'tooManyUploads') {
      throw new AppError('RATE_LIMITED', `At most ${this.deps.config.uploadsPerDay} uploads per day`, { retryAfterSeconds: 3600 });
    }
    throw new AppError('QUOTA_EXCEEDED', `Your media would take more than your ${this.deps.config.quotaBytes} bytes`);
  }

  private dayAgo(): Date {
    return new Date(this.now().getTime() - DAY_MS);
  }

  private expiry(): Date {
    return new Date(this.now().getTime() + this.deps.config.urlTtlSeconds * 1000);
  }
}

/** An encrypted blob is stored as it came. */
function unprocessed(received: { path: string; size: number; kind: MediaKind; contentType: string }): Processed {
  return {
    path: received.path,
    thumbnailPath: null,
    details: { kind: received.kind, contentType: received.contentType, size: received.size, width: null, height: null, durationMs: null, thumbnail: null },
  };
}

/** Images, audio and video are shown inline; anything else is only ever downloaded. */
function responseOf(media: MediaRecord): BlobResponse {
  const inline = !media.encrypted && servedInline(media.kind);
  return {
    contentType: media.contentType,
    disposition: contentDisposition(media.fileName ?? undefined, { type: inline ? 'inline' : 'attachment' }),
  };
}

async function removeFiles(...paths: (string | null | undefined)[]): Promise<void> {
  await Promise.all(paths.map((file) => file && rm(file, { force: true })));
}
