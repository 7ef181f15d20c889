import { rm } from 'node:fs/promises';
import type { MediaKind } from '../protocol/media.js';
import { AppError } from '../shared/app-error.js';
import type { MediaDetails } from './media-store.js';

/** The longer side of a thumbnail, in pixels. */
const THUMBNAIL_SIZE = 320;

/** A received upload: the file it is in, and what its bytes were found to be. */
export interface Received {
  path: string;
  size: number;
  kind: MediaKind;
  contentType: string;
}

/** What is stored of an upload: its (maybe rewritten) file, the thumbnail's file, and what they are. */
export interface Processed {
  path: string;
  thumbnailPath: string | null;
  details: MediaDetails;
}

/**
 * Images are decoded and encoded again, turned upright, with every piece of metadata left behind (sharp
 * keeps none unless told: EXIF with its GPS position, XMP, IPTC), and get a WebP thumbnail; the result
 * replaces the upload. Audio and video report their duration where their container says it. Anything
 * else is kept as it came.
 */
export async function processUpload(upload: Received, options: { imageMaxPixels: number }): Promise<Processed> {
  const base = { kind: upload.kind, contentType: upload.contentType, size: upload.size, width: null, height: null, durationMs: null, thumbnail: null };
  if (upload.kind === 'image') return processImage(upload, options.imageMaxPixels);
  if (upload.kind === 'audio' || upload.kind === 'video') return { path: upload.path, thumbnailPath: null, details: { ...base, durationMs: await durationOf(upload.path) } };
  return { path: upload.path, thumbnailPath: null, details: base };
}

/** sharp and music-metadata are loaded with the first upload that needs them (about 45 MB together), not at start-up. */
const loadSharp = () => import('sharp').then((module) => module.default);
const loadMusicMetadata = () => import('music-metadata');

async function processImage(upload: Received, maxPixels: number): Promise<Processed> {
  const sharp = await loadSharp();
  const cleanPath = `${upload.path}.clean`;
  const thumbnailPath = `${upload.path}.thumb`;
  const animated = upload.contentType === 'image/gif' || upload.contentType === 'image/webp';
  try {
    const clean = await sharp(upload.path, { limitInputPixels: maxPixels, animated }).rotate().toFile(cleanPath);
    const thumbnail = await sharp(cleanPath, { limitInputPixels: maxPixels })
      .resize(THUMBNAIL_SIZE, THUMBNAIL_SIZE, { fit: 'inside', withoutEnlargement: true })
      .webp({ quality: 70 })
      .toFile(thumbnailPath);
    await rm(upload.path, { force: true });
    return {
      path: cleanPath,
      thumbnailPath,
      details: {
        kind: 'image',
        contentType: upload.contentType,
        size: clean.size,
        width: clean.width,
        // An animated image's height from sharp is that of all its frames together.
        height: clean.pageHeight ?? clean.height,
        durationMs: null,
        thumbnail: { width: thumbnail.width, height: thumbnail.height },
      },
    };
  } catch (error) {
    await Promise.all([rm(cleanPath, { force: true }), rm(thumbnailPath, { force: true })]);
    throw new AppError('VALIDATION_FAILED', 'The image could not be read', {
      details: [{ path: 'file', message: /pixel limit/i.test(String(error)) ? `must have at most ${maxPixels} pixels` : 'is not a valid image of its type' }],
    });
  }
}

/** Whole milliseconds, or null when the container does not say (or cannot be read). */
async function durationOf(path: string): Promise<number | null> {
  try {
    const { format } = await (await loadMusicMetadata()).parseFile(path, { duration: true, skipCovers: true });
    return format.duration !== undefined && Number.isFinite(format.duration) ? Math.round(format.duration * 1000) : null;
  } catch {
    return null;
  }
}
