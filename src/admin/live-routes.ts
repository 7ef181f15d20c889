import { Router, type RequestHandler } from 'express';
import { requireAdmin } from '../http/authenticate.js';
import type { LiveFigures } from './live-figures.js';

export function createLiveRouter(deps: { figures: LiveFigures; requireAuth: RequestHandler }): Router {
  const router = Router();
  router.get('/', deps.requireAuth, requireAdmin, async (_req, res) => {
    res.json(await deps.figures.read());
  });
  return router;
}
