import { Router, type RequestHandler } from 'express';
import { principalOf } from '../http/authenticate.js';
import { parse } from '../http/validate.js';
import {
  claimBody,
  keysUserParams,
  registerDeviceBody,
  replacePreKeysBody,
  toDeviceAckBody,
  toDevicePendingQuery,
  toDeviceSendBody,
  uploadPreKeysBody,
} from '../protocol/keys.js';
import type { KeysService } from './keys-service.js';
import type { ToDeviceService } from './to-device-service.js';

/** The key directory under /api/keys (docs/api/e2ee.md): the caller's own device, other users' devices and bundles, to-device messages. */
export function createKeysRouter(deps: { keys: KeysService; toDevice: ToDeviceService; requireAuth: RequestHandler }): Router {
  const { keys, toDevice } = deps;
  const router = Router();
  router.use(deps.requireAuth);

  router.put('/device', async (req, res) => {
    const body = parse(registerDeviceBody, req.body, 'body');
    res.json(await keys.register(principalOf(res), body));
  });

  router.get('/device', async (_req, res) => {
    res.json(await keys.ownDevice(principalOf(res)));
  });

  router.delete('/device', async (_req, res) => {
    await keys.unregister(principalOf(res));
    res.json({ ok: true });
  });

  router.put('/device/prekeys', async (req, res) => {
    const body = parse(replacePreKeysBody, req.body, 'body');
    res.json(await keys.replacePreKeys(principalOf(res), body));
  });

  router.post('/device/one-time-prekeys', async (req, res) => {
    const { oneTimePreKeys } = parse(uploadPreKeysBody, req.body, 'body');
    res.json(await keys.uploadPreKeys(principalOf(res), oneTimePreKeys));
  });

  router.get('/users/:userId/devices', async (req, res) => {
    const { userId } = parse(keysUserParams, req.params, 'params');
    res.json(await keys.devicesOf(principalOf(res).userId, userId));
  });

  router.post('/users/:userId/claim', async (req, res) => {
    const { userId } = parse(keysUserParams, req.params, 'params');
    const { deviceIds } = parse(claimBody, req.body, 'body');
    res.json(await keys.claim(principalOf(res), userId, deviceIds));
  });

  router.post('/to-device', async (req, res) => {
    const { messages } = parse(toDeviceSendBody, req.body, 'body');
    res.json(await toDevice.send(principalOf(res), messages));
  });

  router.get('/to-device', async (req, res) => {
    const { limit } = parse(toDevicePendingQuery, req.query, 'query');
    res.json(await toDevice.pending(principalOf(res), limit));
  });

  router.post('/to-device/ack', async (req, res) => {
    const { ids } = parse(toDeviceAckBody, req.body, 'body');
    res.json(await toDevice.acknowledge(principalOf(res), ids));
  });

  return router;
}
