import { Router, type RequestHandler } from 'express';
import type { RateLimits } from '../http/rate-limits.js';
import { principalOf } from '../http/authenticate.js';
import { clientOf } from '../http/request-client.js';
import { parse } from '../http/validate.js';
import {
  expoPushTokenBody,
  loginBody,
  logoutBody,
  refreshTokenBody,
  registerBody,
  removeExpoPushTokenBody,
  sessionIdParams,
} from '../protocol/auth.js';
import type { AuthService } from './auth-service.js';

export function createAuthRouter(deps: { auth: AuthService; requireAuth: RequestHandler; rateLimits: RateLimits }): Router {
  const { auth, requireAuth, rateLimits } = deps;
  const router = Router();
  router.use(rateLimits.authPerIp);

  router.post('/register', async (req, res) => {
    const body = parse(registerBody, req.body, 'body');
    res.status(201).json(await auth.register(body, clientOf(req)));
  });

  router.post('/login', ...rateLimits.loginFailures, async (req, res) => {
    const body = parse(loginBody, req.body, 'body');
    res.json(await auth.login(body, clientOf(req)));
  });

  router.post('/refresh-token', async (req, res) => {
    const { refreshToken } = parse(refreshTokenBody, req.body, 'body');
    res.json(await auth.refresh(refreshToken, clientOf(req)));
  });

  router.post('/logout', async (req, res) => {
    const { refreshToken } = parse(logoutBody, req.body, 'body');
    await auth.logout(refreshToken, clientOf(req));
    res.json({ ok: true });
  });

  router.post('/logout-all', requireAuth, async (req, res) => {
    res.json({ ok: true, revoked: await auth.logoutOthers(principalOf(res), clientOf(req)) });
  });

  router.get('/me', requireAuth, async (_req, res) => {
    res.json({ user: await auth.me(principalOf(res)) });
  });

  router.post('/expo-push-token', requireAuth, async (req, res) => {
    const { token, deviceId } = parse(expoPushTokenBody, req.body, 'body');
    await auth.registerPushToken(principalOf(res), token, deviceId, clientOf(req));
    res.json({ ok: true });
  });

  router.delete('/expo-push-token', requireAuth, async (req, res) => {
    const { token } = parse(removeExpoPushTokenBody, req.body, 'body');
    await auth.removePushToken(principalOf(res), token, clientOf(req));
    res.json({ ok: true });
  });

  router.get('/sessions', requireAuth, async (_req, res) => {
    res.json({ sessions: await auth.listSessions(principalOf(res)) });
  });

  router.delete('/sessions/:id', requireAuth, async (req, res) => {
    const { id } = parse(sessionIdParams, req.params, 'params');
    await auth.revokeSession(principalOf(res), id, clientOf(req));
    res.json({ ok: true });
  });

  return router;
}
