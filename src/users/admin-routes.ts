import { Router, type RequestHandler } from 'express';
import { principalOf, requireAdmin } from '../http/authenticate.js';
import { clientOf } from '../http/request-client.js';
import { parse } from '../http/validate.js';
import { adminUpdateUserBody, adminUserParams, adminUsersQuery } from '../protocol/admin.js';
import type { AccountAdminService } from './account-admin-service.js';
import type { AccountDirectory } from './account-directory.js';

export function createAdminRouter(deps: { accounts: AccountAdminService; directory: AccountDirectory; requireAuth: RequestHandler }): Router {
  const router = Router();
  router.use(deps.requireAuth, requireAdmin);

  router.get('/users', async (req, res) => {
    res.json(await deps.directory.list(parse(adminUsersQuery, req.query, 'query')));
  });

  router.get('/users/:id', async (req, res) => {
    const { id } = parse(adminUserParams, req.params, 'params');
    res.json(await deps.directory.get(id));
  });

  router.patch('/users/:id', async (req, res) => {
    const { id } = parse(adminUserParams, req.params, 'params');
    const change = parse(adminUpdateUserBody, req.body, 'body');
    res.json({ user: await deps.accounts.update(id, change, { userId: principalOf(res).userId, client: clientOf(req) }) });
  });

  return router;
}
