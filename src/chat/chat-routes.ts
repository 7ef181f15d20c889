import { Router, type RequestHandler } from 'express';
import { principalOf } from '../http/authenticate.js';
import { parse } from '../http/validate.js';
import { conversationsQuery, historyParams, historyQuery, syncQuery } from '../protocol/chat.js';
import type { ChatService } from './chat-service.js';

export function createChatRouter(deps: { chat: ChatService; requireAuth: RequestHandler }): Router {
  const { chat } = deps;
  const router = Router();
  router.use(deps.requireAuth);

  router.get('/history/:userId', async (req, res) => {
    const { userId } = parse(historyParams, req.params, 'params');
    const page = parse(historyQuery, req.query, 'query');
    res.json(await chat.history(principalOf(res).userId, userId, page));
  });

  router.get('/conversations', async (req, res) => {
    const page = parse(conversationsQuery, req.query, 'query');
    res.json(await chat.conversations(principalOf(res).userId, page));
  });

  router.get('/sync', async (req, res) => {
    const { after, limit } = parse(syncQuery, req.query, 'query');
    res.json(await chat.sync(principalOf(res).userId, after, limit));
  });

  return router;
}
