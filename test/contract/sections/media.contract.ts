import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { MediaRecord, NewMedia } from '../../../src/media/media-store.js';
import { newId } from '../../../src/shared/ids.js';
import { chatFixtures } from '../chat-fixtures.js';
import type { ContractContext } from '../storage-contract.js';

export function mediaContract(ctx: ContractContext): void {
  const media = () => ctx.storage.media;
  const { users, newMessage, direct, group } = chatFixtures(ctx);
  const roomy = { maxUploads: 1000, since: new Date(0), maxBytes: 10 ** 12 };
  const newMedia = (ownerId: string, overrides: Partial<NewMedia> = {}): NewMedia => ({
    id: newId(),
    ownerId,
    status: 'ready',
    kind: 'image',
    contentType: 'image/jpeg',
    size: 1000,
    fileName: 'photo.jpg',
    width: 640,
    height: 480,
    durationMs: null,
    encrypted: false,
    thumbnail: { width: 320, height: 240 },
    createdAt: new Date(),
    ...overrides,
  });
  const stored = async (ownerId: string, overrides: Partial<NewMedia> = {}): Promise<MediaRecord> => {
    const record = newMedia(ownerId, overrides);
    assert.equal(await media().create(record, roomy), 'created');
    return { ...record, messageId: null };
  };
  test('create holds the owner to the uploads and bytes of the budget; usage counts what is not discarded', async () => {
    const [owner] = await users(1);
    const since = new Date(Date.now() - 1000);
    assert.equal(await media().create(newMedia(owner!.id, { size: 600 }), { maxUploads: 2, since, maxBytes: 1000 }), 'created');
    assert.equal(await media().create(newMedia(owner!.id, { size: 600 }), { maxUploads: 2, since, maxBytes: 1000 }), 'quotaExceeded');
    assert.equal(await media().create(newMedia(owner!.id, { size: 400 }), { maxUploads: 2, since, maxBytes: 1000 }), 'created');
    assert.equal(await media().create(newMedia(owner!.id, { size: 1 }), { maxUploads: 2, since, maxBytes: 10_000 }), 'tooManyUploads');
    assert.deepEqual(await media().usage(owner!.id, since), { uploads: 2, bytes: 1000 });
    assert.deepEqual(await media().usage(owner!.id, new Date(Date.now() + 1000)), { uploads: 0, bytes: 1000 });
  });

  test('racing creates never both take the last of a quota', async () => {
    const [owner] = await users(1);
    const budget = { maxUploads: 100, since: new Date(0), maxBytes: 1000 };
    const results = await Promise.all(Array.from({ length: 5 }, () => media().create(newMedia(owner!.id, { size: 600 }), budget)));
    assert.deepEqual(results.filter((result) => result === 'created').length, 1);
  });

  test('a message attaches its sender’s ready media once, carrying what they are; anything else stores nothing', async () => {
    const { a, b, id } = await direct();
    const photo = await stored(a.id);
    const note = await stored(a.id, { kind: 'audio', contentType: 'audio/ogg', width: null, height: null, durationMs: 1500, thumbnail: null, fileName: null });
    const message = newMessage(id, a.id, { attachmentIds: [note.id, photo.id] });
    const result = await ctx.storage.messages.create(message);
    assert.equal(result.outcome, 'stored');
    const strip = ({ ownerId: _o, status: _s, messageId: _m, createdAt: _c, ...attachment }: MediaRecord) => attachment;
    assert.deepEqual(result.outcome === 'stored' && result.message.attachments, [strip(note), strip(photo)]);
    assert.deepEqual((await ctx.storage.messages.findById(message.id))?.attachments, [strip(note), strip(photo)]);
    assert.equal((await media().findById(photo.id))?.messageId, message.id);

    const again = newMessage(id, a.id, { attachmentIds: [photo.id] });
    assert.deepEqual(await ctx.storage.messages.create(again), { outcome: 'attachmentsUnavailable' });
    const retry = await ctx.storage.messages.create({ ...message, id: newId() });
    assert.deepEqual(retry.outcome === 'stored' && [retry.created, retry.message.id], [false, message.id]);
    const others = await stored(b.id);
    const uploading = await stored(a.id, { status: 'uploading' });
    const sealed = await stored(a.id, { encrypted: true });
    for (const attachmentIds of [[others.id], [uploading.id], [sealed.id], [newId()]]) {
      const refused = newMessage(id, a.id, { attachmentIds });
      assert.deepEqual(await ctx.storage.messages.create(refused), { outcome: 'attachmentsUnavailable' });
      assert.equal(await ctx.storage.messages.findById(refused.id), null);
    }
    const encryptedSend = newMessage(id, a.id, { text: '', encrypted: { scheme: 'signal', senderDeviceId: 'd', groupCiphertext: { body: 'AAAA' } }, attachmentIds: [sealed.id] });
    assert.equal((await ctx.storage.messages.create(encryptedSend)).outcome, 'stored');
    assert.equal((await media().findById(others.id))?.messageId, null, 'a refused send attached nothing');
  });

  test('racing messages with the same media: one attaches it, the other is refused', async () => {
    const { a, id } = await direct();
    const photo = await stored(a.id);
    const results = await Promise.all([0, 1, 2].map(() => ctx.storage.messages.create(newMessage(id, a.id, { attachmentIds: [photo.id] }))));
    assert.deepEqual(results.map((result) => result.outcome).sort(), ['attachmentsUnavailable', 'attachmentsUnavailable', 'stored']);
  });

  test('findAccessible: the uploader before and after, current members once attached, nobody else', async () => {
    const [owner, member, outsider] = await users(3);
    const groupId = await group(owner!, [member!]);
    const photo = await stored(owner!.id);
    assert.equal((await media().findAccessible(photo.id, owner!.id))?.id, photo.id);
    assert.equal(await media().findAccessible(photo.id, member!.id), null);
    const message = newMessage(groupId, owner!.id, { attachmentIds: [photo.id] });
    await ctx.storage.messages.create(message);
    assert.equal((await media().findAccessible(photo.id, member!.id))?.messageId, message.id);
    assert.equal(await media().findAccessible(photo.id, outsider!.id), null);
    await ctx.storage.conversations.removeMember(groupId, member!.id, new Date());
    assert.equal(await media().findAccessible(photo.id, member!.id), null);
    assert.equal((await media().findAccessible(photo.id, owner!.id))?.id, photo.id);
    const uploading = await stored(owner!.id, { status: 'uploading' });
    assert.equal(await media().findAccessible(uploading.id, owner!.id), null);
  });

  test('markReady completes only the owner’s upload under way', async () => {
    const [owner, other] = await users(2);
    const upload = await stored(owner!.id, { status: 'uploading', kind: 'file', contentType: 'application/octet-stream', thumbnail: null });
    const details = { kind: 'video' as const, contentType: 'video/mp4', size: 900, width: null, height: null, durationMs: 4000, thumbnail: null };
    assert.equal(await media().markReady(upload.id, other!.id, details), null);
    const ready = await media().markReady(upload.id, owner!.id, details);
    assert.deepEqual(ready, { ...upload, ...details, status: 'ready' });
    assert.equal(await media().markReady(upload.id, owner!.id, details), null);
  });

  test('discarded media is nobody’s; listDiscarded hands it out for removal and delete forgets it', async () => {
    const { a, b, id } = await direct();
    const [photo, note, kept] = [await stored(a.id), await stored(a.id, { thumbnail: null }), await stored(a.id)];
    const message = newMessage(id, a.id, { attachmentIds: [photo.id, note.id] });
    await ctx.storage.messages.create(message);
    assert.ok(await ctx.storage.messages.deleteForEveryone({ messageId: message.id, deletedBy: a.id, at: new Date() }), 'the message is deleted');
    assert.equal((await ctx.storage.messages.findById(message.id))?.attachments, undefined, 'the tombstone shows no attachments');
    for (const viewer of [a.id, b.id]) assert.equal(await media().findAccessible(photo.id, viewer), null);
    assert.equal(await media().findById(photo.id), null);
    const listed = (await media().listDiscarded(10_000)).map((record) => record.id);
    assert.ok(listed.includes(photo.id) && listed.includes(note.id) && !listed.includes(kept.id));
    await media().delete([photo.id, note.id]);
    assert.ok(!(await media().listDiscarded(10_000)).some((record) => record.id === photo.id));
    assert.equal((await media().findById(kept.id))?.id, kept.id);
  });

  test('discardUnattached takes uploads never attached once old enough; discardByOwner takes all of an owner’s', async () => {
    const { a, id } = await direct();
    const old = await stored(a.id, { createdAt: new Date(Date.now() - 60_000) });
    const oldAttached = await stored(a.id, { createdAt: new Date(Date.now() - 60_000) });
    await ctx.storage.messages.create(newMessage(id, a.id, { attachmentIds: [oldAttached.id] }));
    const fresh = await stored(a.id);
    while ((await media().discardUnattached(new Date(Date.now() - 30_000), 1000)) > 0);
    assert.equal(await media().findById(old.id), null);
    assert.equal((await media().findById(oldAttached.id))?.id, oldAttached.id);
    assert.equal((await media().findById(fresh.id))?.id, fresh.id);
    assert.equal(await media().discardByOwner(a.id), 2);
    assert.deepEqual(await media().usage(a.id, new Date(0)), { uploads: 0, bytes: 0 });
  });
}
