import { Router, type RequestHandler } from 'express';
import { principalOf, requireAdmin } from '../http/authenticate.js';
import { parse } from '../http/validate.js';
import { blockBody, blockParams, blocksQuery, reportBody, reportsQuery } from '../protocol/safety.js';
import type { AbuseReportService } from './abuse-report-service.js';
import type { BlockService } from './block-service.js';

/** /api/blocks: the caller's blocks. */
export function createBlockRouter(deps: { blocks: BlockService; requireAuth: RequestHandler }): Router {
  const { blocks } = deps;
  const router = Router();
  router.use(deps.requireAuth);

  router.get('/', async (req, res) => {
    const page = parse(blocksQuery, req.query, 'query');
    res.json(await blocks.list(principalOf(res).userId, page));
  });

  router.post('/', async (req, res) => {
    const { userId } = parse(blockBody, req.body, 'body');
    const { block, created } = await blocks.block(principalOf(res).userId, userId);
    res.status(created ? 201 : 200).json({ block });
  });

  router.delete('/:userId', async (req, res) => {
    const { userId } = parse(blockParams, req.params, 'params');
    await blocks.unblock(principalOf(res).userId, userId);
    res.status(204).end();
  });

  return router;
}

/** /api/reports: anyone reports abuse; admins read the reports at /api/admin/reports. */
export function createReportRouters(deps: { reports: AbuseReportService; requireAuth: RequestHandler }): { reports: Router; admin: Router } {
  const { reports } = deps;
  const reportsRouter = Router();
  reportsRouter.use(deps.requireAuth);
  reportsRouter.post('/', async (req, res) => {
    const body = parse(reportBody, req.body, 'body');
    res.status(201).json({ report: await reports.report(principalOf(res).userId, body) });
  });

  const admin = Router();
  admin.use(deps.requireAuth, requireAdmin);
  admin.get('/', async (req, res) => {
    const page = parse(reportsQuery, req.query, 'query');
    res.json(await reports.list(page));
  });
  return { reports: reportsRouter, admin };
}
