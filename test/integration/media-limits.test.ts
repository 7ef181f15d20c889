import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLogger } from '../../src/shared/logger.js';
import { openPostgresStorage } from '../../src/storage/postgres/postgres-storage.js';
import { assertError, assertRetryAfter } from '../support/assertions.js';
import { postgresTargets, freshDataDir, type DatabaseKind } from '../support/databases.js';
import { registerUser, request } from '../support/http.js';
import { mediaAccess, upload, uploadOk } from '../support/media.js';
import { spawnServer, type ServerProcess } from '../support/processes.js';

const LIMIT_BYTES = 10 * 1024 * 1024;
const SETTINGS = {
  MEDIA_MAX_IMAGE_BYTES: String(LIMIT_BYTES),
  MEDIA_MAX_AUDIO_BYTES: String(LIMIT_BYTES),
  MEDIA_MAX_VIDEO_BYTES: String(LIMIT_BYTES),
  MEDIA_MAX_FILE_BYTES: String(LIMIT_BYTES),
  MEDIA_UPLOADS_PER_DAY: '3',
  MEDIA_QUOTA_BYTES: String(3 * 1024 * 1024),
  MEDIA_ORPHAN_TTL: '3s',
  MEDIA_CLEANUP_INTERVAL: '1s',
  MEDIA_UPLOAD_REQUESTS_PER_MINUTE: '20',
};

/** The server process's resident memory now and at its peak, in bytes (Linux /proc). */
async function memoryOf(pid: number): Promise<{ rss: number; peak: number }> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
  return { rss: kib('VmRSS'), peak: kib('VmHWM') };
}

const BOUNDARY = 'media-limits-test-boundary';

/**
 * Streams a multipart upload of `size` bytes of one repeated random chunk (chunked, or with a Content-Length
 * when `declare`), stopping as soon as the server answers; resolves with the answer and the bytes sent by then.
 * `onSent` sees the running count, and may hold the upload up (to act mid-upload).
 */
function streamUpload(
  baseUrl: string,
  token: string,
  size: number,
  options: { declare?: boolean; onSent?: (sent: number) => Promise<void> | void } = {},
): Promise<{ status: number | undefined; body: string; sent: number; error?: Error }> {
  const head = Buffer.from(`--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\nContent-Type: image/jpeg\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${BOUNDARY}--\r\n`);
  const chunk = randomBytes(64 * 1024);
  return new Promise((resolve) => {
    let sent = 0;
    let answered = false;
    const url = new URL('/api/media', baseUrl);
    const req = httpRequest(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': `multipart/form-data; boundary=${BOUNDARY}`,
        ...(options.declare ? { 'content-length': String(head.length + size + tail.length) } : {}),
      },
    });
    req.on('response', (res: IncomingMessage) => {
      answered = true;
      let body = '';
      res.setEncoding('utf8').on('data', (text: string) => (body += text));
      res.on('end', () => {
        req.destroy();
        resolve({ status: res.statusCode, body, sent });
      });
    });
    req.on('error', (error) => {
      if (!answered) resolve({ status: undefined, body: '', sent, error });
    });
    const write = async () => {
      if (options.declare) req.flushHeaders();
      else req.write(head);
      // With a declared length nothing is sent until the server answers: it must refuse on the header alone.
      if (options.declare) return;
      while (sent < size && !answered && !req.destroyed) {
        const ok = req.write(chunk);
        sent += chunk.length;
        await options.onSent?.(sent);
        if (!ok) await new Promise((resume) => req.once('drain', resume));
      }
      if (!answered && !req.destroyed) req.end(tail);
    };
    void write();
  });
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name));
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** The user's media as the database holds them, read with the server stopped (PGlite opens in one process at a time). */
async function storedUsage(kind: DatabaseKind, dataDir: string, userId: string) {
  const storage = await openPostgresStorage({
    databaseUrl: kind === 'postgres' ? process.env['DATABASE_URL'] : undefined,
    dataDir,
    logger: createLogger({ level: 'silent', pretty: false }),
  });
  try {
    return await storage.media.usage(userId, new Date(0));
  } finally {
    await storage.close();
  }
}

for (const target of postgresTargets()) {
  describe(`media limits and crashes (${target.kind}, a real server process)`, { skip: target.skip }, () => {
    let dataDir: string;
    let server: ServerProcess;
    const tempDir = () => path.join(dataDir, 'media', 'tmp');
    const blobsDir = () => path.join(dataDir, 'media', 'blobs');
    const start = async () => {
      server = await spawnServer(target.kind, dataDir, SETTINGS);
    };

    before(async () => {
      dataDir = await freshDataDir(target.kind);
      await start();
    });
    after(async () => {
      server.child.kill('SIGKILL');
      await server.exited;
      await rm(dataDir, { recursive: true, force: true });
    });

    test('200 MB against a 10 MB limit is refused early, stores nothing, and the server reads it with little memory', async () => {
      const user = await registerUser(server.baseUrl, 'Big');
      const pid = server.child.pid!;
      const before = await memoryOf(pid);
      const declared = await streamUpload(server.baseUrl, user.accessToken, 200 * 1024 * 1024, { declare: true });
      assert.equal(declared.status, 413, `declared 200 MB: ${declared.status} ${declared.body} ${declared.error ?? ''}`);
      assert.equal(JSON.parse(declared.body).error.code, 'PAYLOAD_TOO_LARGE');

      const streamed = await streamUpload(server.baseUrl, user.accessToken, 200 * 1024 * 1024);
      assert.equal(streamed.status, 413, `streamed 200 MB: ${streamed.status} ${streamed.body} ${streamed.error ?? ''}`);
      assert.equal(JSON.parse(streamed.body).error.code, 'PAYLOAD_TOO_LARGE');
      assert.ok(streamed.sent < 40 * 1024 * 1024, `refused only after ${streamed.sent} bytes`);
      const afterwards = await memoryOf(pid);
      assert.ok(afterwards.peak - before.peak < 40 * 1024 * 1024, `peak RSS grew by ${afterwards.peak - before.peak} bytes`);
      assert.deepEqual(await filesUnder(tempDir()), []);
      assert.deepEqual(await filesUnder(blobsDir()), []);
      // Still serving, on a new connection.
      assert.equal((await uploadOk(server.baseUrl, user.accessToken, randomBytes(1000))).size, 1000);
    });

    test('uploads per day and the quota are held to', async () => {
      const counted = await registerUser(server.baseUrl, 'Counted');
      for (let i = 0; i < 3; i += 1) await uploadOk(server.baseUrl, counted.accessToken, randomBytes(100));
      const fourth = await upload(server.baseUrl, counted.accessToken, randomBytes(100));
      assertError(fourth, 429, 'RATE_LIMITED');
      assertRetryAfter(fourth);

      const hoarder = await registerUser(server.baseUrl, 'Hoarder');
      await uploadOk(server.baseUrl, hoarder.accessToken, randomBytes(1200 * 1024));
      await uploadOk(server.baseUrl, hoarder.accessToken, randomBytes(1200 * 1024));
      assertError(await upload(server.baseUrl, hoarder.accessToken, randomBytes(1200 * 1024)), 413, 'QUOTA_EXCEEDED');
    });

    test('upload requests are rate limited per user, before anything is read', async () => {
      const [eager, other] = [await registerUser(server.baseUrl, 'Eager'), await registerUser(server.baseUrl, 'Other')];
      const notMultipart = (token: string) => request(server.baseUrl, 'POST', '/api/media', { token, body: {} });
      for (let i = 0; i < 20; i += 1) assert.equal((await notMultipart(eager.accessToken)).status, 400);
      const limited = await notMultipart(eager.accessToken);
      assertError(limited, 429, 'RATE_LIMITED');
      assertRetryAfter(limited);
      assert.equal((await notMultipart(other.accessToken)).status, 400, 'another user is not held up');
    });

    test('uploads never attached are removed after the orphan TTL, blobs and all', async () => {
      const user = await registerUser(server.baseUrl, 'Forgetful');
      const media = await uploadOk(server.baseUrl, user.accessToken, randomBytes(2000));
      const blob = (await filesUnder(blobsDir())).find((file) => file.endsWith(media.id));
      assert.ok(blob, 'the blob is on disk');
      await until(async () => (await mediaAccess(server.baseUrl, user.accessToken, media.id)).status === 404, 'the orphan to go');
      await until(async () => !(await stat(blob).then(() => true, () => false)), 'its blob to go');
    });

    test('a server killed mid-upload leaves no media and no blob, and its half file is removed at the next start', async () => {
      const user = await registerUser(server.baseUrl, 'Unlucky');
      const blobsBefore = await filesUnder(blobsDir());
      const uploading = streamUpload(server.baseUrl, user.accessToken, 8 * 1024 * 1024, {
        onSent: async (sent) => {
          if (sent !== 3 * 1024 * 1024) return;
          await until(async () => (await Promise.all((await filesUnder(tempDir())).map((file) => stat(file)))).some((file) => file.size > 0), 'the upload to reach disk');
          server.child.kill('SIGKILL');
          await server.exited;
        },
      });
      const outcome = await uploading;
      assert.equal(outcome.status, undefined, 'the upload never got an answer');
      await server.exited;
      const halfFiles = await filesUnder(tempDir());
      assert.equal(halfFiles.length, 1, 'the half-written upload is a temporary file');
      assert.ok((await stat(halfFiles[0]!)).size < 8 * 1024 * 1024);
      assert.deepEqual(await filesUnder(blobsDir()), blobsBefore, 'no blob was stored');
      assert.deepEqual(await storedUsage(target.kind, dataDir, user.user.id), { uploads: 0, bytes: 0 });

      await start();
      await until(async () => (await filesUnder(tempDir())).length === 0, 'the half file to be removed');
      assert.equal((await uploadOk(server.baseUrl, user.accessToken, randomBytes(500))).size, 500);
    });
  });
}
