import { decodeJwt, SignJWT } from 'jose';

/**
 * The JWT secret of every test server. Kept here rather than beside the test app, so that helpers which sign
 * tokens do not import the app: suites that must set the environment before the app loads (the push suites'
 * EXPO_BASE_URL) can import them.
 */
export const TEST_JWT_SECRET = 'test-secret-that-is-at-least-32-bytes-long!';

/** The claims a server-issued access token carries (read without verifying). */
export function accessTokenClaims(token: string): { sub: string; sid: string; iat: number; exp: number } {
  const payload = decodeJwt(token);
  if (typeof payload.sub !== 'string' || typeof payload['sid'] !== 'string' || !payload.iat || !payload.exp) {
    throw new Error(`unexpected access token claims: ${JSON.stringify(payload)}`);
  }
  return { sub: payload.sub, sid: payload['sid'], iat: payload.iat, exp: payload.exp };
}

export interface ForgedToken {
  sub: string;
  sid: string;
  issuer: string;
  audience: string;
  typ?: string;
  secret?: string;
  /** Seconds since the epoch; default a minute from now. */
  exp?: number;
}

/** Signs an access token like an attacker (or the server) would, with TEST_JWT_SECRET by default. */
export function forgeAccessToken(token: ForgedToken): Promise<string> {
  return new SignJWT({ sid: token.sid })
    .setProtectedHeader({ alg: 'HS256', typ: token.typ ?? 'at+jwt' })
    .setSubject(token.sub)
    .setIssuer(token.issuer)
    .setAudience(token.audience)
    .setIssuedAt()
    .setExpirationTime(token.exp ?? Math.floor(Date.now() / 1000) + 60)
    .sign(new TextEncoder().encode(token.secret ?? TEST_JWT_SECRET));
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** An unsigned JWT: `alg: none` and an empty signature, carrying `payload`. */
export function unsignedToken(payload: Record<string, unknown>): string {
  return `${base64url({ alg: 'none', typ: 'at+jwt' })}.${base64url(payload)}.`;
}

/** The same token with one character of its payload changed (signature kept). */
export function tamperPayload(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const index = Math.floor(payload.length / 2);
  const flipped = payload[index] === 'A' ? 'B' : 'A';
  return `${header}.${payload.slice(0, index)}${flipped}${payload.slice(index + 1)}.${signature}`;
}
