import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import type { IncomingMessage } from 'node:http';
import path from 'node:path';
import { Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import busboy from 'busboy';
import { fileTypeFromBuffer } from 'file-type';
import { cleanFileName, type MediaKind } from '../protocol/media.js';
import { AppError } from '../shared/app-error.js';
import { classify, type Sniffed } from './media-kinds.js';

/** Bytes file-type looks at to recognise a format. */
const SAMPLE_BYTES = 4100;

/** A temporary file's name: the process id first, so the cleanup can tell the files of a process that died. */
export const tempName = () => `${process.pid}-${randomUUID()}`;

export interface UploadLimits {
  /** The largest upload of each kind. */
  maxBytes: Record<MediaKind, number>;
  /** Where the file is written while it arrives. */
  tempDir: string;
}

export interface ReceivedFile {
  path: string;
  size: number;
  fileName: string | null;
  kind: MediaKind;
  contentType: string;
}

const tooLarge = (limit: number) => new AppError('PAYLOAD_TOO_LARGE', `The file is larger than ${limit} bytes, the most this kind of file may have`);

/**
 * Counts the bytes going through and stops the stream at the limit. The limit is the largest of any
 * kind until the first bytes are sniffed, then that of the kind they are: a file is refused as soon as
 * it passes its own limit, without reading the rest.
 */
class SniffingLimit extends Transform {
  private head: Buffer[] = [];
  private headBytes = 0;
  private total = 0;
  private limit: number;
  classified: ReturnType<typeof classify> | undefined;

  constructor(
    private readonly maxBytes: Record<MediaKind, number>,
    private readonly encrypted: boolean,
  ) {
    super();
    this.limit = Math.max(...Object.values(maxBytes));
    // An encrypted blob is opaque: nothing is sniffed, and it may be as large as the largest kind.
    if (encrypted) this.classified = classify(undefined, true);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.total += chunk.length;
    if (this.total > this.limit) return done(tooLarge(this.limit));
    if (this.classified) return done(null, chunk);
    this.head.push(chunk);
    this.headBytes += chunk.length;
    if (this.headBytes < SAMPLE_BYTES) return done();
    this.sniff().then(() => done(), done);
  }

  override _flush(done: TransformCallback): void {
    if (this.classified) return done();
    this.sniff().then(() => done(), done);
  }

  get size(): number {
    return this.total;
  }

  private async sniff(): Promise<void> {
    const head = Buffer.concat(this.head);
    this.head = [];
    const sniffed: Sniffed = await fileTypeFromBuffer(head.subarray(0, SAMPLE_BYTES));
    const classified = classify(sniffed, this.encrypted);
    this.classified = classified;
    if ('refused' in classified) throw new AppError('UNSUPPORTED_MEDIA_TYPE', `Files of this type (${classified.refused}) cannot be sent`);
    this.limit = this.maxBytes[classified.kind];
    if (this.total > this.limit) throw tooLarge(this.limit);
    this.push(head);
  }
}

/**
 * Streams the one file part of a multipart/form-data request (named `file`) into a temporary file,
 * never holding more of it in memory than the stream's buffers, and sniffs what it is from its first
 * bytes. On any failure the temporary file is removed and the request is left unread (the caller answers
 * and closes the connection).
 */
export async function receiveUpload(req: IncomingMessage, limits: UploadLimits, encrypted: boolean): Promise<ReceivedFile> {
  let parser: busboy.Busboy;
  try {
    parser = busboy({ headers: req.headers, limits: { files: 1, fields: 0, headerPairs: 20 } });
  } catch {
    throw new AppError('VALIDATION_FAILED', 'Send the file as multipart/form-data, in a part named "file"');
  }
  const tempPath = path.join(limits.tempDir, tempName());
  const counter = new SniffingLimit(limits.maxBytes, encrypted);
  let written: Promise<string | null> | undefined;
  const parsed = new Promise<string | null>((resolve, reject) => {
    const refuse = (message: string) => reject(new AppError('VALIDATION_FAILED', message));
    parser.on('file', (name, stream, info) => {
      if (name !== 'file') {
        stream.resume();
        return refuse('The file part must be named "file"');
      }
      written = pipeline(stream, counter, createWriteStream(tempPath, { flags: 'wx' })).then(() => info.filename ?? null);
      written.catch(reject);
    });
    parser.on('fieldsLimit', () => refuse('Send only the file part (options go in the query string)'));
    parser.on('filesLimit', () => refuse('Send one file part only'));
    parser.on('error', () => refuse('The multipart body could not be read'));
    parser.on('close', () => (written ? written.then(resolve, reject) : refuse('Send the file in a part named "file"')));
  });
  req.pipe(parser);
  try {
    const fileName = await parsed;
    const classified = counter.classified;
    if (!classified || 'refused' in classified) throw new Error('an upload finished without being classified');
    return { path: tempPath, size: counter.size, fileName: encrypted ? null : cleanFileName(fileName ?? undefined), ...classified };
  } catch (error) {
    req.unpipe(parser);
    counter.destroy();
    await rm(tempPath, { force: true });
    throw error;
  }
}
