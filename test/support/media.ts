import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import S3rver from '@20minutes/s3rver';
import sharp from 'sharp';
import type { MediaAccessResponse, MediaDto, MediaResponse } from '../../src/protocol/media.js';
import { request, type HttpResult } from './http.js';

/** The bucket the S3 tests use, and the fixed keys s3rver knows. */
export const S3_BUCKET = 'media-test';
export const S3_KEYS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;

export type MediaStoreKind = 'local' | 's3';

/**
 * A real S3-compatible server (s3rver) on loopback for the enclosing describe(), with its bucket made
 * beforehand: pre-created buckets make it check every SigV4 signature. `env()` is the app's MEDIA_* settings.
 */
export function useS3Server(): { env(): Record<string, string> } {
  let server: S3rver | undefined;
  let dir: string | undefined;
  let endpoint: string | undefined;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'call-app-test-s3-'));
    server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: S3_BUCKET, configs: [] }] });
    const { port } = await server.run();
    endpoint = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  return {
    env() {
      if (!endpoint) throw new Error('the S3 server has not started yet');
      return {
        MEDIA_STORE: 's3',
        MEDIA_S3_ENDPOINT: endpoint,
        MEDIA_S3_BUCKET: S3_BUCKET,
        MEDIA_S3_FORCE_PATH_STYLE: 'true',
        MEDIA_S3_ACCESS_KEY_ID: S3_KEYS.accessKeyId,
        MEDIA_S3_SECRET_ACCESS_KEY: S3_KEYS.secretAccessKey,
      };
    },
  };
}

/** Uploads bytes as the multipart `file` part of POST /api/media, as a browser's FormData would. */
export async function upload(
  baseUrl: string,
  token: string,
  bytes: Uint8Array,
  options: { name?: string; type?: string; encrypted?: boolean } = {},
): Promise<HttpResult<MediaResponse>> {
  const form = new FormData();
  form.set('file', new Blob([bytes], { type: options.type ?? 'application/octet-stream' }), options.name ?? 'upload.bin');
  const response = await fetch(`${baseUrl}/api/media${options.encrypted ? '?encrypted=true' : ''}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}` },
    body: form,
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as MediaResponse };
}

export async function uploadOk(baseUrl: string, token: string, bytes: Uint8Array, options: Parameters<typeof upload>[3] = {}): Promise<MediaDto> {
  const result = await upload(baseUrl, token, bytes, options);
  if (result.status !== 201) throw new Error(`upload: ${result.status} ${JSON.stringify(result.body)}`);
  return result.body.media;
}

export function mediaAccess(baseUrl: string, token: string, mediaId: string): Promise<HttpResult<MediaAccessResponse>> {
  return request<MediaAccessResponse>(baseUrl, 'GET', `/api/media/${mediaId}`, { token });
}

/** Fetches a signed URL (the local store's are relative to the server). */
export function fetchSigned(baseUrl: string, url: string, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(new URL(url, baseUrl), { headers });
}

/** A photo as a phone takes it: a JPEG whose EXIF names the camera and where it was taken. */
export function jpegWithGps(width = 640, height = 480): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 200, g: 80, b: 40 } } })
    .jpeg()
    .withExif({
      IFD0: { Make: 'TestPhone', Model: 'Camera 1' },
      IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '48/1 51/1 2400/100', GPSLongitudeRef: 'E', GPSLongitude: '2/1 21/1 700/100' },
    })
    .toBuffer();
}

/** A mono 16-bit PCM WAV of `seconds` of a tone: a voice note whose duration its header tells. */
export function wav(seconds: number, sampleRate = 8000): Buffer {
  const samples = Math.round(seconds * sampleRate);
  const data = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i += 1) data.writeInt16LE(Math.round(Math.sin((i / sampleRate) * 2 * Math.PI * 440) * 8000), i * 2);
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(sampleRate, 24);
  header.writeUInt32LE(sampleRate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  return Buffer.concat([header, data]);
}
