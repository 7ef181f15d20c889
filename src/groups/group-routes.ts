import { Router } from 'express';
import type { ChatReader } from '../chat/chat-reader.js';
import { principalOf } from '../http/authenticate.js';
import { clientOf } from '../http/request-client.js';
import { parse } from '../http/validate.js';
import { addMembersBody, changeRoleBody, conversationParams, createGroupBody, memberParams, renameGroupBody } from '../protocol/conversations.js';
import type { GroupService } from './group-service.js';

/** /api/chat/groups: mounted inside the chat router, behind its authentication. Each change answers the caller's view of the group. */
export function createGroupRouter(deps: { groups: GroupService; reader: ChatReader }): Router {
  const { groups, reader } = deps;
  const router = Router();

  router.post('/', async (req, res) => {
    const body = parse(createGroupBody, req.body, 'body');
    const userId = principalOf(res).userId;
    const id = await groups.create(userId, body);
    res.status(201).json({ conversation: await reader.conversation(userId, id) });
  });

  router.patch('/:id', async (req, res) => {
    const { id } = parse(conversationParams, req.params, 'params');
    const { title } = parse(renameGroupBody, req.body, 'body');
    const userId = principalOf(res).userId;
    await groups.rename(userId, id, title);
    res.json({ conversation: await reader.conversation(userId, id) });
  });

  router.post('/:id/members', async (req, res) => {
    const { id } = parse(conversationParams, req.params, 'params');
    const { userIds } = parse(addMembersBody, req.body, 'body');
    const userId = principalOf(res).userId;
    await groups.addMembers(userId, id, userIds);
    res.json({ conversation: await reader.conversation(userId, id) });
  });

  router.patch('/:id/members/:userId', async (req, res) => {
    const params = parse(memberParams, req.params, 'params');
    const { role } = parse(changeRoleBody, req.body, 'body');
    const userId = principalOf(res).userId;
    await groups.setRole(userId, params.id, params.userId, role);
    res.json({ conversation: await reader.conversation(userId, params.id) });
  });

  router.delete('/:id/members/:userId', async (req, res) => {
    const params = parse(memberParams, req.params, 'params');
    const userId = principalOf(res).userId;
    await groups.removeMember(userId, params.id, params.userId, clientOf(req));
    if (params.userId === userId) res.status(204).end();
    else res.json({ conversation: await reader.conversation(userId, params.id) });
  });

  return router;
}
