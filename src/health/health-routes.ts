import { Router } from 'express';
import type { Storage } from '../storage/ports.js';

export function createHealthRouter(storage: Storage): Router {
  const router = Router();
  /** Alive: the process answers. */
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  /** Ready: the database answers too. */
  router.get('/ready', async (req, res) => {
    try {
      await storage.ping();
      res.json({ status: 'ready' });
    } catch (error) {
      req.log.warn({ err: error }, 'readiness check failed');
      res.status(503).json({ error: { code: 'UNAVAILABLE', message: 'The database is not reachable' } });
    }
  });
  return router;
}
