import { Router, type RequestHandler } from 'express';
import { requireAdmin } from '../http/authenticate.js';
import { parse } from '../http/validate.js';
import { auditQuery } from '../protocol/audit.js';
import type { AuditLog } from './audit-log.js';

/** /api/admin/audit: the audit log, for admins. */
export function createAuditRouter(deps: { audit: AuditLog; requireAuth: RequestHandler }): Router {
  const router = Router();
  router.use(deps.requireAuth, requireAdmin);

  router.get('/', async (req, res) => {
    res.json(await deps.audit.list(parse(auditQuery, req.query, 'query')));
  });

  return router;
}
