import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import sharp from 'sharp';
import type { ChatMessageEvent, MessageDto } from '../../src/protocol/chat.js';
import type { EncryptedContent } from '../../src/protocol/encrypted.js';
import type { DirectUploadResponse, MediaResponse } from '../../src/protocol/media.js';
import { assertError } from '../support/assertions.js';
import { chatUser, device, history, type ChatUser } from '../support/chat.js';
import { databaseTargets } from '../support/databases.js';
import { createGroup, leave, sendTo, sendToOk, sync, syncHead } from '../support/groups.js';
import { fetchSigned, jpegWithGps, mediaAccess, upload, uploadOk, useS3Server, wav, type MediaStoreKind } from '../support/media.js';
import { deleteMessage, ok } from '../support/message-actions.js';
import { request } from '../support/http.js';
import { nextEvent } from '../support/sockets.js';
import { useTestApp } from '../support/test-app.js';

const URL_TTL_SECONDS = 2;

const stores: MediaStoreKind[] = ['local', 's3'];

for (const target of databaseTargets()) {
  for (const store of stores) {
    describe(`media attachments (${target.kind}, ${store} store)`, { skip: target.skip }, () => {
      const s3 = store === 's3' ? useS3Server() : undefined;
      const server = useTestApp(target.kind, () => ({ MEDIA_URL_TTL: `${URL_TTL_SECONDS}s`, ACCOUNT_EVENTS_POLL_MS: '100', ...s3?.env() }));

      const encrypted = (to: ChatUser): EncryptedContent => ({
        scheme: 'signal',
        senderDeviceId: 'phone-1',
        ciphertexts: [{ userId: to.id, deviceId: 'phone-2', type: 1, body: randomBytes(64).toString('base64') }],
      });

      test('a photo with its GPS position in EXIF reaches the recipient at once with a thumbnail, and downloads without the EXIF', async () => {
        const [alice, bob] = [await chatUser(server.baseUrl, 'Alice'), await chatUser(server.baseUrl, 'Bob')];
        const photo = await jpegWithGps(640, 480);
        assert.ok((await sharp(photo).metadata()).exif, 'the original carries EXIF');
        assert.ok(photo.includes(Buffer.from('GPS')) || photo.includes(Buffer.from('TestPhone')), 'the original names its camera');
        const media = await uploadOk(server.baseUrl, alice.token, photo, { name: 'IMG_0001.jpg', type: 'image/jpeg' });
        assert.equal(media.kind, 'image');
        assert.equal(media.contentType, 'image/jpeg');
        assert.equal(media.status, 'ready');
        assert.deepEqual([media.width, media.height], [640, 480]);
        assert.deepEqual(media.thumbnail, { width: 320, height: 240, contentType: 'image/webp' });
        assert.equal(media.name, 'IMG_0001.jpg');
        assert.equal(media.messageId, null);

        const received = nextEvent<ChatMessageEvent>(device(bob), 'CHAT_MESSAGE');
        const sent = await sendToOk(device(alice), { to: bob.id, text: 'look', attachments: [media.id] } as never);
        const { message } = await received;
        assert.deepEqual(message, sent.message);
        assert.equal(message.text, 'look');
        const { status: _status, messageId: _messageId, createdAt: _createdAt, ...attachment } = media;
        assert.deepEqual(message.attachments, [attachment]);
        assert.deepEqual((await history(server.baseUrl, bob.token, alice.id)).messages[0]?.attachments, [attachment]);

        const access = await mediaAccess(server.baseUrl, bob.token, media.id);
        assert.equal(access.status, 200);
        assert.equal(access.headers.get('cache-control'), 'no-store');
        assert.equal(access.body.media.messageId, message.id);
        const download = await fetchSigned(server.baseUrl, access.body.url);
        assert.equal(download.status, 200);
        assert.equal(download.headers.get('content-type'), 'image/jpeg');
        assert.match(download.headers.get('content-disposition') ?? '', /^inline/);
        const bytes = Buffer.from(await download.arrayBuffer());
        assert.equal(bytes.length, media.size);
        const clean = await sharp(bytes).metadata();
        assert.equal(clean.exif, undefined, 'no EXIF left');
        assert.ok(!bytes.includes(Buffer.from('TestPhone')), 'nothing of the camera left');
        assert.deepEqual([clean.width, clean.height], [640, 480]);

        const thumbnail = await fetchSigned(server.baseUrl, access.body.thumbnailUrl!);
        assert.equal(thumbnail.status, 200);
        const thumb = await sharp(Buffer.from(await thumbnail.arrayBuffer())).metadata();
        assert.deepEqual([thumb.format, thumb.width, thumb.height], ['webp', 320, 240]);
      });

      test('in a group, members fetch an attachment, a non-member and a member who left get 404, the uploader keeps it', async () => {
        const [alice, bob, carol, mallory] = [
          await chatUser(server.baseUrl, 'Alice'),
          await chatUser(server.baseUrl, 'Bob'),
          await chatUser(server.baseUrl, 'Carol'),
          await chatUser(server.baseUrl, 'Mallory'),
        ];
        const group = await createGroup(server.baseUrl, alice.token, 'Band', [bob.id, carol.id]);
        const note = await uploadOk(server.baseUrl, alice.token, wav(1.5), { name: 'voice.wav' });
        assert.equal(note.kind, 'audio');
        assert.equal(note.contentType, 'audio/wav');
        assert.equal(note.durationMs, 1500);
        assert.equal(note.thumbnail, null);
        assertError(await mediaAccess(server.baseUrl, bob.token, note.id), 404, 'NOT_FOUND');

        const head = await syncHead(server.baseUrl, carol.token);
        const received = nextEvent<ChatMessageEvent>(device(bob), 'CHAT_MESSAGE');
        await sendToOk(device(alice), { conversationId: group.id, attachments: [note.id] } as never);
        const { message } = await received;
        assert.equal(message.text, '');
        assert.deepEqual(message.attachments?.map((item) => [item.id, item.kind, item.durationMs]), [[note.id, 'audio', 1500]]);
        const synced: MessageDto[] = (await sync(server.baseUrl, carol.token, head)).messages;
        assert.deepEqual(synced.map((item) => item.attachments?.[0]?.id), [note.id]);

        for (const member of [alice, bob, carol]) assert.equal((await mediaAccess(server.baseUrl, member.token, note.id)).status, 200);
        assertError(await mediaAccess(server.baseUrl, mallory.token, note.id), 404, 'NOT_FOUND');
        await leave(server.baseUrl, carol.token, group.id, carol.id);
        assertError(await mediaAccess(server.baseUrl, carol.token, note.id), 404, 'NOT_FOUND');
        await leave(server.baseUrl, alice.token, group.id, alice.id);
        assert.equal((await mediaAccess(server.baseUrl, alice.token, note.id)).status, 200, 'the uploader');
      });

      test('only the uploader attaches a media, and only once; a retry of the send is answered the stored message', async () => {
        const [alice, bob] = [await chatUser(server.baseUrl, 'Alice'), await chatUser(server.baseUrl, 'Bob')];
        const media = await uploadOk(server.baseUrl, alice.token, wav(0.2));
        const stolen = await sendTo(device(bob), { to: alice.id, attachments: [media.id] } as never);
        assert.equal(stolen.ok, false);
        assert.equal(!stolen.ok && stolen.error.code, 'NOT_FOUND');

        const first = await sendToOk(device(alice), { to: bob.id, attachments: [media.id], clientMessageId: 'note-1' } as never);
        const retry = await sendToOk(device(alice), { to: bob.id, attachments: [media.id], clientMessageId: 'note-1' } as never);
        assert.equal(retry.message.id, first.message.id);
        const again = await sendTo(device(alice), { to: bob.id, text: 'again', attachments: [media.id] } as never);
        assert.equal(!again.ok && again.error.code, 'NOT_FOUND');
        assert.deepEqual((await history(server.baseUrl, bob.token, alice.id)).messages.map((item) => item.id), [first.message.id]);
      });

      test('an expired or tampered signed URL is refused', async () => {
        const alice = await chatUser(server.baseUrl, 'Alice');
        const media = await uploadOk(server.baseUrl, alice.token, await jpegWithGps(64, 64));
        const { url } = (await mediaAccess(server.baseUrl, alice.token, media.id)).body;
        const signature = /([?&](?:signature|X-Amz-Signature)=)([^&]+)/;
        const tampered = url.replace(signature, (_all, name: string, value: string) => `${name}${value.startsWith('0') ? '1' : '0'}${value.slice(1)}`);
        assert.equal((await fetchSigned(server.baseUrl, tampered)).status, 403);
        assert.equal((await fetchSigned(server.baseUrl, url)).status, 200);
        await new Promise((resolve) => setTimeout(resolve, (URL_TTL_SECONDS + 1.2) * 1000));
        assert.equal((await fetchSigned(server.baseUrl, url)).status, 403);
      });

      test('Range requests answer exactly the bytes asked for', async () => {
        const alice = await chatUser(server.baseUrl, 'Alice');
        const note = wav(1);
        const media = await uploadOk(server.baseUrl, alice.token, note);
        const { url } = (await mediaAccess(server.baseUrl, alice.token, media.id)).body;
        const part = await fetchSigned(server.baseUrl, url, { range: 'bytes=100-1123' });
        assert.equal(part.status, 206);
        assert.equal(part.headers.get('content-range'), `bytes 100-1123/${note.length}`);
        assert.deepEqual(Buffer.from(await part.arrayBuffer()), note.subarray(100, 1124));
        const tail = await fetchSigned(server.baseUrl, url, { range: `bytes=${note.length - 10}-` });
        assert.equal(tail.status, 206);
        assert.deepEqual(Buffer.from(await tail.arrayBuffer()), note.subarray(note.length - 10));
      });

      test('a renamed executable is refused; HTML and SVG are stored as opaque downloads that never render', async () => {
        const alice = await chatUser(server.baseUrl, 'Alice');
        const program = (await readFile(process.execPath)).subarray(0, 256 * 1024);
        assertError(await upload(server.baseUrl, alice.token, program, { name: 'holiday.jpg', type: 'image/jpeg' }), 415, 'UNSUPPORTED_MEDIA_TYPE');

        for (const [name, text] of [
          ['page.html', '<!doctype html><html><body><script>alert(document.cookie)</script></body></html>'],
          ['logo.svg', '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'],
        ] as const) {
          const media = await uploadOk(server.baseUrl, alice.token, Buffer.from(text), { name, type: name.endsWith('svg') ? 'image/svg+xml' : 'text/html' });
          assert.deepEqual([media.kind, media.contentType, media.thumbnail], ['file', 'application/octet-stream', null]);
          const download = await fetchSigned(server.baseUrl, (await mediaAccess(server.baseUrl, alice.token, media.id)).body.url);
          assert.equal(download.status, 200);
          assert.equal(download.headers.get('content-type'), 'application/octet-stream');
          assert.match(download.headers.get('content-disposition') ?? '', new RegExp(`^attachment; filename="?${name.replace('.', '\\.')}`));
          if (store === 'local') {
            assert.equal(download.headers.get('x-content-type-options'), 'nosniff');
            assert.match(download.headers.get('content-security-policy') ?? '', /sandbox/);
          }
          assert.equal(await download.text(), text);
        }
      });

      test('an encrypted upload is an opaque blob for encrypted messages only', async () => {
        const [alice, bob] = [await chatUser(server.baseUrl, 'Alice'), await chatUser(server.baseUrl, 'Bob')];
        // Ciphertext that happens to start like a JPEG is still not looked into.
        const blob = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(5000)]);
        const media = await uploadOk(server.baseUrl, alice.token, blob, { name: 'secret.jpg', encrypted: true });
        assert.deepEqual([media.kind, media.contentType, media.encrypted, media.name, media.thumbnail, media.size], ['file', 'application/octet-stream', true, null, null, blob.length]);
        const plain = await uploadOk(server.baseUrl, alice.token, wav(0.1));

        const mixed = await sendTo(device(alice), { to: bob.id, text: 'hi', attachments: [media.id] } as never);
        assert.equal(!mixed.ok && mixed.error.code, 'NOT_FOUND');
        const leaky = await sendTo(device(alice), { to: bob.id, encrypted: encrypted(bob), attachments: [plain.id] } as never);
        assert.equal(!leaky.ok && leaky.error.code, 'NOT_FOUND');
        const sent = await sendToOk(device(alice), { to: bob.id, encrypted: encrypted(bob), attachments: [media.id] } as never);
        assert.deepEqual(sent.message.attachments?.map((item) => item.encrypted), [true]);

        const download = await fetchSigned(server.baseUrl, (await mediaAccess(server.baseUrl, bob.token, media.id)).body.url);
        assert.match(download.headers.get('content-disposition') ?? '', /^attachment/);
        assert.deepEqual(Buffer.from(await download.arrayBuffer()), blob);
      });

      test("a message deleted for everyone takes its media with it: nobody can fetch it, by its URL neither, and its bytes go", async () => {
        const [alice, bob] = [await chatUser(server.baseUrl, 'Alice'), await chatUser(server.baseUrl, 'Bob')];
        const media = await uploadOk(server.baseUrl, alice.token, await jpegWithGps(64, 64));
        const { message } = await sendToOk(device(alice), { to: bob.id, attachments: [media.id] } as never);
        const { url, thumbnailUrl } = (await mediaAccess(server.baseUrl, bob.token, media.id)).body;
        const deleted = ok(await deleteMessage(device(alice), message.id, 'everyone'), 'the delete');
        assert.equal(deleted.message?.attachments, undefined, 'the tombstone shows no attachments');
        assertError(await mediaAccess(server.baseUrl, bob.token, media.id), 404, 'NOT_FOUND');
        assertError(await mediaAccess(server.baseUrl, alice.token, media.id), 404, 'NOT_FOUND');
        await waitFor(async () => (await Promise.all([url, thumbnailUrl!].map((link) => fetchSigned(server.baseUrl, link)))).every((response) => response.status === 404), 'its bytes to go');
        await waitFor(async () => (await server.app.storage.media.usage(alice.id, new Date(0))).uploads === 0, 'its record to go');
      });

      test("a deleted account's media goes: nobody can fetch it and its bytes are removed", async () => {
        const [alice, bob] = [await chatUser(server.baseUrl, 'Alice'), await chatUser(server.baseUrl, 'Bob')];
        const media = await uploadOk(server.baseUrl, alice.token, wav(0.3));
        await sendToOk(device(alice), { to: bob.id, attachments: [media.id] } as never);
        const { url } = (await mediaAccess(server.baseUrl, bob.token, media.id)).body;
        await server.app.storage.users.setStatus(alice.id, 'deleted');
        await waitFor(async () => (await mediaAccess(server.baseUrl, bob.token, media.id)).status === 404, 'the media to go');
        await waitFor(async () => (await fetchSigned(server.baseUrl, url)).status === 404, 'its bytes to go');
        assert.deepEqual(await server.app.storage.media.usage(alice.id, new Date(0)), { uploads: 0, bytes: 0 });
      });

      test('a direct upload goes to the S3 bucket through a presigned PUT and is processed once confirmed', async () => {
        const [alice, bob] = [await chatUser(server.baseUrl, 'Alice'), await chatUser(server.baseUrl, 'Bob')];
        const photo = await jpegWithGps(320, 200);
        const started = await request<DirectUploadResponse>(server.baseUrl, 'POST', '/api/media/uploads', { token: alice.token, body: { size: photo.length, name: 'direct.jpg' } });
        if (store === 'local') {
          assertError(started, 404, 'NOT_FOUND');
          return;
        }
        assert.equal(started.status, 201);
        const { media, upload: target } = started.body;
        assert.deepEqual([media.status, media.size, media.name], ['uploading', photo.length, 'direct.jpg']);
        const early = await sendTo(device(alice), { to: bob.id, attachments: [media.id] } as never);
        assert.equal(!early.ok && early.error.code, 'NOT_FOUND', 'not attachable before it is confirmed');
        assertError(await request(server.baseUrl, 'POST', `/api/media/${media.id}/complete`, { token: alice.token }), 400, 'VALIDATION_FAILED');
        assertError(await request(server.baseUrl, 'POST', `/api/media/${media.id}/complete`, { token: bob.token }), 404, 'NOT_FOUND');

        const oversized = await fetch(target.url, { method: target.method, body: Buffer.concat([photo, photo]) });
        assert.equal(oversized.status, 403, 'the signature covers the declared length');
        const put = await fetch(target.url, { method: target.method, headers: target.headers, body: photo });
        assert.equal(put.status, 200);
        const completed = await request<MediaResponse>(server.baseUrl, 'POST', `/api/media/${media.id}/complete`, { token: alice.token });
        assert.equal(completed.status, 200, JSON.stringify(completed.body));
        assert.deepEqual([completed.body.media.status, completed.body.media.kind, completed.body.media.width], ['ready', 'image', 320]);
        assert.notEqual(completed.body.media.thumbnail, null);

        await sendToOk(device(alice), { to: bob.id, attachments: [media.id] } as never);
        const download = await fetchSigned(server.baseUrl, (await mediaAccess(server.baseUrl, bob.token, media.id)).body.url);
        assert.equal((await sharp(Buffer.from(await download.arrayBuffer())).metadata()).exif, undefined);
      });

      test('bad uploads get clear errors', async () => {
        const alice = await chatUser(server.baseUrl, 'Alice');
        const notMultipart = await fetch(`${server.baseUrl}/api/media`, { method: 'POST', headers: { authorization: `Bearer ${alice.token}`, 'content-type': 'application/json' }, body: '{}' });
        assert.equal(notMultipart.status, 400);
        const form = new FormData();
        form.set('other', new Blob([Buffer.from('x')]), 'x.bin');
        const wrongPart = await fetch(`${server.baseUrl}/api/media`, { method: 'POST', headers: { authorization: `Bearer ${alice.token}` }, body: form });
        assert.equal(wrongPart.status, 400);
        assertError(await upload(server.baseUrl, alice.token, Buffer.alloc(0)), 400, 'VALIDATION_FAILED');
        const broken = (await jpegWithGps(200, 200)).subarray(0, 700);
        assertError(await upload(server.baseUrl, alice.token, broken, { name: 'broken.jpg' }), 400, 'VALIDATION_FAILED');
        const anonymous = await fetch(`${server.baseUrl}/api/media`, { method: 'POST', body: form });
        assert.equal(anonymous.status, 401);
      });
    });
  }
}

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
