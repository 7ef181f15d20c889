import { Router } from 'express';
import type { ScaleOut } from '../scale-out/scale-out.js';
import type { Storage } from '../storage/ports.js';

export function createHealthRouter(storage: Storage, scaleOut: Pick<ScaleOut, 'mode' | 'ping'>): Router {
  const router = Router();
  /** Alive: the process answers. */
  router.get('/health', (_req, res) => {
    res.json({ status: 'ok' });
  });
  /** Ready: the database answers, and Redis too when processes share it. */
  router.get('/ready', async (req, res) => {
    const [database, redis] = await Promise.allSettled([storage.ping(), scaleOut.ping()]);
    const state = (check: PromiseSettledResult<void>) => (check.status === 'fulfilled' ? 'ok' : 'unreachable');
    const checks = { database: state(database), redis: scaleOut.mode === 'redis' ? state(redis) : 'not used' };
    if (database.status === 'fulfilled' && redis.status === 'fulfilled') {
      res.json({ status: 'ready', ...checks });
      return;
    }
    for (const check of [database, redis]) if (check.status === 'rejected') req.log.warn({ err: check.reason }, 'readiness check failed');
    const down = [database.status === 'rejected' && 'the database', redis.status === 'rejected' && 'Redis'].filter(Boolean).join(' and ');
    const failed = Object.entries(checks).filter(([, state]) => state === 'unreachable');
    res.status(503).json({ error: { code: 'UNAVAILABLE', message: `Cannot reach ${down}`, details: failed.map(([path, message]) => ({ path, message })) } });
  });
  return router;
}
