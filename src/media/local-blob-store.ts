import { mkdir, open, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { BlobResponse, BlobStore } from './blob-store.js';
import type { UrlSigner } from './url-signer.js';

/** Where the local store's download route is mounted. */
export const LOCAL_BLOB_ROUTE = '/api/media/blob';

/** Keys the local store holds: a media id, perhaps with `.thumb`. Anything else names no file. */
export const LOCAL_KEY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}(\.thumb)?$/;

/** The fields a local download URL signs, in order. */
export const signedFields = (key: string, expires: string, response: BlobResponse) => [key, expires, response.contentType, response.disposition];

/**
 * Blobs as files under `dir`, spread over 256 directories by the last two characters of the id (the
 * random end of a UUIDv7). Downloads are signed URLs of this server's own route (local-blob-routes.ts).
 */
export class LocalBlobStore implements BlobStore {
  readonly direct = undefined;

  constructor(
    private readonly dir: string,
    private readonly signer: UrlSigner,
  ) {}

  /** The file of a key; throws for a key the store never makes. */
  pathOf(key: string): string {
    if (!LOCAL_KEY.test(key)) throw new Error(`not a media blob key: ${key}`);
    return path.join(this.dir, key.slice(34, 36), key);
  }

  async put(key: string, file: { path: string }): Promise<void> {
    const target = this.pathOf(key);
    // Flushed before the rename, so the name never points at a file that is still partly in the page cache.
    const handle = await open(file.path, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await mkdir(path.dirname(target), { recursive: true });
    await rename(file.path, target);
  }

  async signedUrl(key: string, response: BlobResponse, expiresAt: Date): Promise<string> {
    this.pathOf(key);
    const expires = String(Math.floor(expiresAt.getTime() / 1000));
    const query = new URLSearchParams({ expires, type: response.contentType, disposition: response.disposition });
    query.set('signature', this.signer.sign(signedFields(key, expires, response)));
    return `${LOCAL_BLOB_ROUTE}/${key}?${query}`;
  }

  async remove(keys: readonly string[]): Promise<void> {
    await Promise.all(keys.filter((key) => LOCAL_KEY.test(key)).map((key) => rm(this.pathOf(key), { force: true })));
  }
}
