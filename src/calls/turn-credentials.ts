import { createHmac } from 'node:crypto';
import type { IceServer, IceServersResponse } from '../protocol/calls.js';

export interface IceServersInput {
  stunUrls: string[];
  turnUrls: string[];
  /** coturn's `static-auth-secret`; without it no TURN entry is handed out. */
  turnSecret?: string | undefined;
  ttlSeconds: number;
  userId: string;
  now: Date;
}

/**
 * TURN credentials in coturn's REST API scheme (`use-auth-secret`): the username is
 * `<expiry unix seconds>:<userId>` and the password base64(HMAC-SHA1(secret, username)), so coturn
 * checks them with the shared secret alone and refuses them once the expiry has passed.
 */
export function turnCredentials(input: { secret: string; userId: string; ttlSeconds: number; now: Date }): {
  username: string;
  credential: string;
} {
  const expiresAt = Math.floor(input.now.getTime() / 1000) + input.ttlSeconds;
  const username = `${expiresAt}:${input.userId}`;
  const credential = createHmac('sha1', input.secret).update(username).digest('base64');
  return { username, credential };
}

export function buildIceServers(input: IceServersInput): IceServersResponse {
  const iceServers: IceServer[] = [];
  if (input.stunUrls.length > 0) iceServers.push({ urls: [...input.stunUrls] });
  if (input.turnUrls.length > 0 && input.turnSecret) {
    const credentials = turnCredentials({
      secret: input.turnSecret,
      userId: input.userId,
      ttlSeconds: input.ttlSeconds,
      now: input.now,
    });
    iceServers.push({ urls: [...input.turnUrls], ...credentials });
  }
  return { iceServers, ttlSeconds: input.ttlSeconds };
}
