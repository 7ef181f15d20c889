import { Router, type RequestHandler } from 'express';
import { principalOf } from '../http/authenticate.js';
import { parse } from '../http/validate.js';
import { conversationsQuery, historyParams, historyQuery, syncQuery } from '../protocol/chat.js';
import { conversationMessagesQuery, conversationParams, membersQuery } from '../protocol/conversations.js';
import type { ChatReader } from './chat-reader.js';

export function createChatRouter(deps: { reader: ChatReader; groups: Router; requireAuth: RequestHandler }): Router {
  const { reader } = deps;
  const router = Router();
  router.use(deps.requireAuth);
  router.use('/groups', deps.groups);

  router.get('/history/:userId', async (req, res) => {
    const { userId } = parse(historyParams, req.params, 'params');
    const page = parse(historyQuery, req.query, 'query');
    res.json(await reader.history(principalOf(res).userId, userId, page));
  });

  router.get('/conversations', async (req, res) => {
    const page = parse(conversationsQuery, req.query, 'query');
    res.json(await reader.conversations(principalOf(res).userId, page));
  });

  router.get('/conversations/:id', async (req, res) => {
    const { id } = parse(conversationParams, req.params, 'params');
    res.json({ conversation: await reader.conversation(principalOf(res).userId, id) });
  });

  router.get('/conversations/:id/members', async (req, res) => {
    const { id } = parse(conversationParams, req.params, 'params');
    const page = parse(membersQuery, req.query, 'query');
    res.json(await reader.members(principalOf(res).userId, id, page));
  });

  router.get('/conversations/:id/messages', async (req, res) => {
    const { id } = parse(conversationParams, req.params, 'params');
    const page = parse(conversationMessagesQuery, req.query, 'query');
    res.json(await reader.conversationMessages(principalOf(res).userId, id, page));
  });

  router.get('/sync', async (req, res) => {
    const { after, limit } = parse(syncQuery, req.query, 'query');
    res.json(await reader.sync(principalOf(res).userId, after, limit));
  });

  return router;
}
