/**
 * Where the bytes of media live. The local disk and S3-compatible services implement it; services see
 * only this. Keys are the media id, and `<id>.thumb` for an image's thumbnail.
 */
export interface BlobStore {
  /** Stores the complete file at `file.path` under `key`: after a crash the key holds all of it or nothing. */
  put(key: string, file: { path: string; contentType: string }): Promise<void>;
  /** A URL anyone holding it can fetch the blob from until `expiresAt`, answered with these headers. */
  signedUrl(key: string, response: BlobResponse, expiresAt: Date): Promise<string>;
  /** Removes the blobs; keys that hold nothing are fine. */
  remove(keys: readonly string[]): Promise<void>;
  /** Uploads straight from the client to the store, where it can take them (S3); undefined otherwise. */
  readonly direct: DirectUploads | undefined;
}

export interface BlobResponse {
  contentType: string;
  /** The whole Content-Disposition header value. */
  disposition: string;
}

export interface DirectUploads {
  /** A URL the client PUTs exactly `size` bytes to, until `expiresAt`, with these headers. */
  uploadUrl(key: string, size: number, expiresAt: Date): Promise<{ url: string; headers: Record<string, string> }>;
  /** Copies what was uploaded under `key` to the local file `toPath`: its size, or null when nothing was or more than `maxBytes`. */
  download(key: string, toPath: string, maxBytes: number): Promise<number | null>;
}

/** Where a direct upload waits for its confirmation, apart from the media it becomes. */
export const uploadKey = (mediaId: string) => `uploads/${mediaId}`;
export const thumbnailKey = (mediaId: string) => `${mediaId}.thumb`;
