import { Router } from 'express';
import { parse } from '../http/validate.js';
import { blobQuery } from '../protocol/media.js';
import { AppError } from '../shared/app-error.js';
import { LOCAL_KEY, signedFields, type LocalBlobStore } from './local-blob-store.js';
import type { UrlSigner } from './url-signer.js';


/**
 * Rendering on our origin is switched off for every blob: its type is the sniffed one and browsers may
 * not guess another, and a document that does open runs no script, loads nothing and is sandboxed.
 */
const BLOB_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy': "default-src 'none'; sandbox",
  // Web apps on other origins may show images and play audio and video from a link they were given.
  'Cross-Origin-Resource-Policy': 'cross-origin',
};

/**
 * The local store's downloads: `GET /api/media/blob/:key` with a signature (local-blob-store.ts) in place
 * of an access token, so `<img>`, `<audio>` and players can fetch them. Range requests, conditional
 * requests and HEAD come from Express's sendFile.
 */
export function createLocalBlobRouter(deps: { store: LocalBlobStore; signer: UrlSigner; now?: () => Date }): Router {
  const now = deps.now ?? (() => new Date());
  const router = Router();
  router.get('/:key', (req, res, next) => {
    const key = req.params.key;
    const query = parse(blobQuery, req.query, 'query');
    const response = { contentType: query.type, disposition: query.disposition };
    if (!LOCAL_KEY.test(key) || !deps.signer.verify(signedFields(key, query.expires, response), query.signature)) {
      throw new AppError('FORBIDDEN', 'This link is not valid');
    }
    const secondsLeft = Number(query.expires) - Math.floor(now().getTime() / 1000);
    if (secondsLeft <= 0) throw new AppError('FORBIDDEN', 'This link has expired: ask GET /api/media/:id for a new one');
    res.set({ ...BLOB_HEADERS, 'Content-Type': response.contentType, 'Content-Disposition': response.disposition, 'Cache-Control': `private, max-age=${secondsLeft}` });
    res.sendFile(deps.store.pathOf(key), { cacheControl: false, dotfiles: 'deny' }, (error?: Error & { code?: string }) => {
      if (!error || res.headersSent) return;
      res.removeHeader('Content-Disposition');
      next(error.code === 'ENOENT' ? new AppError('NOT_FOUND', 'No such media') : error);
    });
  });
  return router;
}
