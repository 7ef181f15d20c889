import { until } from './calls.js';
import type { FakeExpo, ReceivedPush } from './fake-expo.js';
import { registerPushToken, registerUser } from './http.js';

/** A user signed in on one device with an Expo token and no socket: their app is in the background. */
export async function offlineUser(baseUrl: string, name: string): Promise<{ id: string; token: string }> {
  const user = await registerUser(baseUrl, name);
  return { id: user.user.id, token: await registerPushToken(baseUrl, user.accessToken) };
}

/** The first `count` pushes to `token`, once they arrived. */
export async function received(expo: FakeExpo, token: string, count = 1): Promise<ReceivedPush[]> {
  await until(`${count} pushes to ${token}`, async () => expo.pushesTo(token).length >= count);
  return expo.pushesTo(token).slice(0, count);
}

/** What an app sees of a push, without the transport's bookkeeping. */
export const seen = ({ title, body, badge, data, priority, sound, channelId, categoryId, collapseId, _contentAvailable }: ReceivedPush) =>
  Object.fromEntries(
    Object.entries({ title, body, badge, data, priority, sound, channelId, categoryId, collapseId, _contentAvailable }).filter(([, value]) => value !== undefined),
  );
