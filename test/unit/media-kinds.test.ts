import assert from 'node:assert/strict';
import { test } from 'node:test';
import { classify } from '../../src/media/media-kinds.js';

test('an upload is classified by its sniffed type alone; programs and HEIC photos are refused', () => {
  const cases: [string | undefined, ReturnType<typeof classify>][] = [
    ['image/jpeg', { kind: 'image', contentType: 'image/jpeg' }],
    ['image/gif', { kind: 'image', contentType: 'image/gif' }],
    ['audio/ogg', { kind: 'audio', contentType: 'audio/ogg' }],
    ['video/mp4', { kind: 'video', contentType: 'video/mp4' }],
    ['application/pdf', { kind: 'file', contentType: 'application/pdf' }],
    ['image/tiff', { kind: 'file', contentType: 'image/tiff' }],
    [undefined, { kind: 'file', contentType: 'application/octet-stream' }],
    ['application/x-elf', { refused: 'application/x-elf' }],
    ['application/x-msdownload', { refused: 'application/x-msdownload' }],
    ['image/heic', { refused: 'image/heic' }],
  ];
  for (const [mime, expected] of cases) assert.deepEqual(classify(mime ? { mime } : undefined, false), expected, String(mime));
  assert.deepEqual(classify({ mime: 'application/x-elf' }, true), { kind: 'file', contentType: 'application/octet-stream' }, 'an encrypted blob is never looked into');
});
