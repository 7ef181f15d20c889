import type { MediaKind } from '../protocol/media.js';

/** Images that are decoded, stripped of their metadata and thumbnailed (what sharp's prebuilt binaries read and write). */
export const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/webp', 'image/gif', 'image/avif']);

/**
 * Refused whatever they are named: programs (a chat has no business passing them around), and photos in
 * formats whose metadata (GPS position included) cannot be stripped here (sharp's prebuilt libvips
 * reads no HEIC): phones' pickers convert them to JPEG when asked.
 */
const REFUSED_TYPES = new Set([
  'application/x-elf',
  'application/x-msdownload',
  'application/x-mach-binary',
  'image/heic',
  'image/heic-sequence',
  'image/heif',
  'image/heif-sequence',
]);

export const OPAQUE_TYPE = 'application/octet-stream';

/** Thumbnails are WebP, whatever the image. */
export const THUMBNAIL_TYPE = 'image/webp';

/** What the first bytes say an upload is (file-type's answer); undefined when they say nothing known. */
export type Sniffed = { mime: string } | undefined;

export type Classified = { kind: MediaKind; contentType: string } | { refused: string };

/** The kind and served Content-Type of an upload, from its sniffed type alone. */
export function classify(sniffed: Sniffed, encrypted: boolean): Classified {
  if (encrypted || !sniffed) return { kind: 'file', contentType: OPAQUE_TYPE };
  const { mime } = sniffed;
  if (REFUSED_TYPES.has(mime)) return { refused: mime };
  if (IMAGE_TYPES.has(mime)) return { kind: 'image', contentType: mime };
  if (mime.startsWith('audio/')) return { kind: 'audio', contentType: mime };
  if (mime.startsWith('video/')) return { kind: 'video', contentType: mime };
  return { kind: 'file', contentType: mime };
}

/** Only what browsers show without running anything is served inline; everything else is a download. */
export const servedInline = (kind: MediaKind) => kind !== 'file';
