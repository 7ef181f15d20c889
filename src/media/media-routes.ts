import { Router, type Request, type RequestHandler, type Response } from 'express';
import { principalOf } from '../http/authenticate.js';
import { parse } from '../http/validate.js';
import { directUploadBody, mediaParams, uploadQuery } from '../protocol/media.js';
import { AppError } from '../shared/app-error.js';
import type { MediaService } from './media-service.js';
import { receiveUpload, type UploadLimits } from './upload-receiver.js';

/** Room for the multipart framing around the file itself. */
const MULTIPART_OVERHEAD = 64 * 1024;

/** How long a refused upload's sender may go on sending, read and dropped, before its connection closes. */
const LINGER_MS = 2_000;

/**
 * An upload refused before its body was read whole: the rest is read and dropped, so the client gets
 * its answer and the connection can carry the next request. A body that is too large (or of unknown
 * length) is not worth reading for long: once the answer is sent, the connection closes if the client
 * is still sending after LINGER_MS. Closing at once would reset a connection whose client is still
 * sending, and a reset makes the client's system drop our answer before the client has read it.
 */
function dropRest(req: Request, res: Response, error: unknown): void {
  if (req.complete) return;
  req.resume();
  if (!(error instanceof AppError && error.code === 'PAYLOAD_TOO_LARGE') && req.get('content-length') !== undefined) return;
  res.once('finish', () => {
    const linger = setTimeout(() => req.socket.destroy(), LINGER_MS);
    linger.unref();
    req.once('end', () => clearTimeout(linger));
    req.once('close', () => clearTimeout(linger));
  });
}

export function createMediaRouter(deps: { media: MediaService; limits: UploadLimits; uploadRate: RequestHandler; requireAuth: RequestHandler }): Router {
  const { media } = deps;
  const router = Router();
  router.use(deps.requireAuth);

  router.post('/', deps.uploadRate, async (req, res) => {
    const ownerId = principalOf(res).userId;
    const { encrypted } = parse(uploadQuery, req.query, 'query');
    const declared = Number(req.get('content-length') ?? 0);
    try {
      if (declared > media.maxUploadBytes + MULTIPART_OVERHEAD) throw new AppError('PAYLOAD_TOO_LARGE', `Files may have at most ${media.maxUploadBytes} bytes`);
      await media.checkBudget(ownerId, Math.max(0, declared - MULTIPART_OVERHEAD));
      const received = await receiveUpload(req, deps.limits, encrypted);
      res.status(201).json({ media: await media.upload(ownerId, received, encrypted) });
    } catch (error) {
      dropRest(req, res, error);
      throw error;
    }
  });

  router.post('/uploads', deps.uploadRate, async (req, res) => {
    const input = parse(directUploadBody, req.body, 'body');
    res.status(201).json(await media.startDirectUpload(principalOf(res).userId, input));
  });

  router.post('/:id/complete', async (req, res) => {
    const { id } = parse(mediaParams, req.params, 'params');
    res.json({ media: await media.completeDirectUpload(principalOf(res).userId, id) });
  });

  router.get('/:id', async (req, res) => {
    const { id } = parse(mediaParams, req.params, 'params');
    const access = await media.access(principalOf(res).userId, id);
    res.set('Cache-Control', 'no-store').json(access);
  });

  return router;
}
