import { Router, type RequestHandler } from 'express';
import { principalOf, requireAdmin } from '../http/authenticate.js';
import { parse } from '../http/validate.js';
import { callQualityDailyQuery, callQualityParams, callStatsBody } from '../protocol/call-quality.js';
import type { RateLimit } from '../shared/rate-limit.js';
import type { CallQualityService } from './call-quality-service.js';

/** /api/call/:id/stats and /api/call/:id/quality: a party's reports and what they read of a call. */
export function createCallQualityRouter(deps: { quality: CallQualityService; reports: RateLimit; requireAuth: RequestHandler }): Router {
  const { quality, reports } = deps;
  const router = Router();

  router.post('/:id/stats', deps.requireAuth, async (req, res) => {
    const principal = principalOf(res);
    // The same budget as CALL_STATS: one user's reports over both ways together.
    await reports.consume(principal.userId);
    const { id } = parse(callQualityParams, req.params, 'params');
    res.json(await quality.report(principal, id, parse(callStatsBody, req.body, 'body')));
  });

  router.get('/:id/quality', deps.requireAuth, async (req, res) => {
    const { id } = parse(callQualityParams, req.params, 'params');
    res.json(await quality.quality(principalOf(res).userId, id));
  });

  return router;
}

/** /api/admin/call-quality: the daily figures, for admins. */
export function createCallQualityAdminRouter(deps: { quality: CallQualityService; requireAuth: RequestHandler }): Router {
  const router = Router();
  router.use(deps.requireAuth, requireAdmin);
  router.get('/', async (req, res) => {
    res.json(await deps.quality.daily(parse(callQualityDailyQuery, req.query, 'query')));
  });
  return router;
}
