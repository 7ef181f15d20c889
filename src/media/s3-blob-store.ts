import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DeleteObjectCommand, GetObjectCommand, NoSuchKey, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import pLimit from 'p-limit';
import type { Readable } from 'node:stream';
import type { MediaStoreConfig } from '../config/config.js';
import type { BlobResponse, BlobStore, DirectUploads } from './blob-store.js';

type S3Settings = Extract<MediaStoreConfig, { kind: 's3' }>;

/** Deletions in flight at once. */
const DELETE_CONCURRENCY = 8;

const secondsUntil = (at: Date) => Math.max(1, Math.ceil((at.getTime() - Date.now()) / 1000));

/**
 * Blobs in an S3 bucket through the AWS SDK v3: downloads and direct uploads are presigned URLs (SigV4),
 * so the bytes never pass through this server. The bucket stays private: nothing is readable without a
 * signature.
 */
export class S3BlobStore implements BlobStore {
  private readonly client: S3Client;
  private readonly deletes = pLimit(DELETE_CONCURRENCY);
  readonly direct: DirectUploads;

  constructor(private readonly settings: S3Settings) {
    this.client = new S3Client({
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      // Checksums only where S3 requires them: many S3-compatible services take no aws-chunked trailers.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      ...(settings.credentials ? { credentials: settings.credentials } : {}),
    });
    this.direct = {
      uploadUrl: async (key, size, expiresAt) => ({
        url: await getSignedUrl(this.client, new PutObjectCommand({ Bucket: settings.bucket, Key: key, ContentLength: size }), {
          expiresIn: secondsUntil(expiresAt),
        }),
        headers: { 'content-length': String(size) },
      }),
      download: (key, toPath, maxBytes) => this.download(key, toPath, maxBytes),
    };
  }

  async put(key: string, file: { path: string; contentType: string }): Promise<void> {
    const { size } = await stat(file.path);
    // A PutObject is stored whole or not at all.
    await this.client.send(
      new PutObjectCommand({ Bucket: this.settings.bucket, Key: key, Body: createReadStream(file.path), ContentLength: size, ContentType: file.contentType }),
    );
  }

  signedUrl(key: string, response: BlobResponse, expiresAt: Date): Promise<string> {
    const command = new GetObjectCommand({
      Bucket: this.settings.bucket,
      Key: key,
      ResponseContentType: response.contentType,
      ResponseContentDisposition: response.disposition,
    });
    return getSignedUrl(this.client, command, { expiresIn: secondsUntil(expiresAt) });
  }

  async remove(keys: readonly string[]): Promise<void> {
    // One DeleteObject per key (a missing key is no error): DeleteObjects needs a Content-MD5 or checksum
    // header that not every S3-compatible service takes.
    await Promise.all(keys.map((key) => this.deletes(() => this.client.send(new DeleteObjectCommand({ Bucket: this.settings.bucket, Key: key })))));
  }

  private async download(key: string, toPath: string, maxBytes: number): Promise<number | null> {
    let body: Readable;
    try {
      body = (await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }))).Body as Readable;
    } catch (error) {
      if (error instanceof NoSuchKey) return null;
      throw error;
    }
    let size = 0;
    const tooLarge = new Error(`the object under ${key} is larger than ${maxBytes} bytes`);
    const counted = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        done(size > maxBytes ? tooLarge : null, chunk);
      },
    });
    try {
      await pipeline(body, counted, createWriteStream(toPath, { flags: 'wx' }));
    } catch (error) {
      if (error === tooLarge) return null;
      throw error;
    }
    return size;
  }
}
