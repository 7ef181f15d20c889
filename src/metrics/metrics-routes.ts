import { createHash, timingSafeEqual } from 'node:crypto';
import { Router } from 'express';
import type { Registry } from 'prom-client';
import { AppError } from '../shared/app-error.js';

const digest = (text: string) => createHash('sha256').update(text).digest();

/**
 * Whether an Authorization header carries `Bearer <token>`, compared in constant time (on digests, so
 * neither the token's length nor its bytes leak through timing).
 */
export function bearerMatches(token: string): (authorization: string | undefined) => boolean {
  const expected = digest(`Bearer ${token}`);
  return (authorization) => timingSafeEqual(digest(authorization ?? ''), expected);
}

/** GET /metrics: the registry in Prometheus's text format; with a token, only for a scrape presenting it. */
export function createMetricsRouter(options: { registry: Registry; token: string | undefined }): Router {
  const { registry, token } = options;
  const authorised = token === undefined ? () => true : bearerMatches(token);
  const router = Router();
  router.get('/metrics', async (req, res) => {
    if (!authorised(req.get('authorization'))) {
      res.set('WWW-Authenticate', 'Bearer realm="metrics"');
      throw new AppError('UNAUTHORIZED', 'Send the metrics token as "Authorization: Bearer <METRICS_TOKEN>"');
    }
    res.type(registry.contentType).send(await registry.metrics());
  });
  return router;
}
