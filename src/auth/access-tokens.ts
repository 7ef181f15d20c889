import { webcrypto } from 'node:crypto';
import { errors, jwtVerify, SignJWT } from 'jose';
import { LRUCache } from 'lru-cache';
import { idSchema } from '../protocol/common.js';
import { AppError } from '../shared/app-error.js';

/** RFC 9068 media type for JWT access tokens: a refresh token or an ID token cannot pass for one. */
const TYP = 'at+jwt';
const ALG = 'HS256';

export interface AccessTokenClaims {
  userId: string;
  sessionId: string;
}

export interface AccessTokenSettings {
  secret: string;
  issuer: string;
  audience: string;
  ttlSeconds: number;
}

type VerifiedClaims = AccessTokenClaims & { expiresAt: Date };

export interface AccessTokens {
  sign(claims: AccessTokenClaims): Promise<string>;
  /** Throws UNAUTHORIZED or TOKEN_EXPIRED. */
  verify(token: string): Promise<VerifiedClaims>;
}

/** Tokens verified lately. A client presents the same token with every request and every reconnect until it refreshes. */
const VERIFIED_TOKENS = 10_000;

export function createAccessTokens(settings: AccessTokenSettings): AccessTokens {
  // Imported once: given the raw secret, jose would import it again for every token, which costs more than the HMAC.
  const key = webcrypto.subtle.importKey('raw', new TextEncoder().encode(settings.secret), { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
  // What a token says never changes once its signature checked out, only whether it has expired (checked
  // on every use). Whether its session still stands is the Authenticator's to check, every time.
  const verified = new LRUCache<string, VerifiedClaims>({ max: VERIFIED_TOKENS, ttl: settings.ttlSeconds * 1000 });
  const expired = (claims: VerifiedClaims) => claims.expiresAt.getTime() <= Date.now();
  return {
    sign: async ({ userId, sessionId }) =>
      new SignJWT({ sid: sessionId })
        .setProtectedHeader({ alg: ALG, typ: TYP })
        .setSubject(userId)
        .setIssuer(settings.issuer)
        .setAudience(settings.audience)
        .setIssuedAt()
        .setExpirationTime(`${settings.ttlSeconds}s`)
        .sign(await key),
    async verify(token) {
      const known = verified.get(token);
      if (known) {
        if (expired(known)) throw new AppError('TOKEN_EXPIRED', 'The access token has expired');
        return known;
      }
      try {
        const { payload } = await jwtVerify(token, await key, {
          algorithms: [ALG],
          issuer: settings.issuer,
          audience: settings.audience,
          typ: TYP,
          requiredClaims: ['sub', 'exp', 'sid'],
        });
        // Only a signed token gets here, but its claims are still checked: a `sid` that is not an id is never looked up.
        const userId = idSchema.safeParse(payload.sub);
        const sessionId = idSchema.safeParse(payload['sid']);
        if (!userId.success || !sessionId.success) throw new errors.JWTInvalid('bad claims');
        const claims = { userId: userId.data, sessionId: sessionId.data, expiresAt: new Date(payload.exp! * 1000) };
        verified.set(token, claims, { ttl: Math.max(1, claims.expiresAt.getTime() - Date.now()) });
        return claims;
      } catch (error) {
        if (error instanceof errors.JWTExpired) throw new AppError('TOKEN_EXPIRED', 'The access token has expired');
        throw new AppError('UNAUTHORIZED', 'The access token is not valid');
      }
    },
  };
}
