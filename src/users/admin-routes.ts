import { Router, type RequestHandler } from 'express';
import { principalOf, requireAdmin } from '../http/authenticate.js';
import { clientOf } from '../http/request-client.js';
import { parse } from '../http/validate.js';
import { adminUpdateUserBody, adminUserParams } from '../protocol/admin.js';
import type { AccountAdminService } from './account-admin-service.js';

export function createAdminRouter(deps: { accounts: AccountAdminService; requireAuth: RequestHandler }): Router {
  const router = Router();
  router.use(deps.requireAuth, requireAdmin);

  router.patch('/users/:id', async (req, res) => {
    const { id } = parse(adminUserParams, req.params, 'params');
    const change = parse(adminUpdateUserBody, req.body, 'body');
    res.json({ user: await deps.accounts.update(id, change, { userId: principalOf(res).userId, client: clientOf(req) }) });
  });

  return router;
}
