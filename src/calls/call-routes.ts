import { Router, type RequestHandler } from 'express';
import { principalOf } from '../http/authenticate.js';
import { parse } from '../http/validate.js';
import { callHistoryQuery, type CallHistoryQuery, type CallHistoryResponse } from '../protocol/calls.js';
import { buildIceServers } from './turn-credentials.js';

export interface IceServerSettings {
  stunUrls: string[];
  turnUrls: string[];
  turnSecret: string | undefined;
  turnCredentialTtlSeconds: number;
}

export function createCallRouter(deps: {
  /** The user's 1:1 and group calls (call-history.ts). */
  history: (userId: string, query: CallHistoryQuery) => Promise<CallHistoryResponse>;
  iceServers: IceServerSettings;
  requireAuth: RequestHandler;
}): Router {
  const { history, iceServers } = deps;
  const router = Router();
  router.use(deps.requireAuth);

  router.get('/history', async (req, res) => {
    const query = parse(callHistoryQuery, req.query, 'query');
    res.json(await history(principalOf(res).userId, query));
  });

  router.get('/ice-servers', (_req, res) => {
    const answer = buildIceServers({
      stunUrls: iceServers.stunUrls,
      turnUrls: iceServers.turnUrls,
      turnSecret: iceServers.turnSecret,
      ttlSeconds: iceServers.turnCredentialTtlSeconds,
      userId: principalOf(res).userId,
      now: new Date(),
    });
    // The TURN credentials are the user's own: no cache may keep or share them.
    res.set('Cache-Control', 'no-store').json(answer);
  });

  return router;
}
