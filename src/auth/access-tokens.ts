import { errors, jwtVerify, SignJWT } from 'jose';
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

export interface AccessTokens {
  sign(claims: AccessTokenClaims): Promise<string>;
  /** Throws UNAUTHORIZED or TOKEN_EXPIRED. */
  verify(token: string): Promise<AccessTokenClaims>;
}

export function createAccessTokens(settings: AccessTokenSettings): AccessTokens {
  const key = new TextEncoder().encode(settings.secret);
  return {
    sign: ({ userId, sessionId }) =>
      new SignJWT({ sid: sessionId })
        .setProtectedHeader({ alg: ALG, typ: TYP })
        .setSubject(userId)
        .setIssuer(settings.issuer)
        .setAudience(settings.audience)
        .setIssuedAt()
        .setExpirationTime(`${settings.ttlSeconds}s`)
        .sign(key),
    async verify(token) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: [ALG],
          issuer: settings.issuer,
          audience: settings.audience,
          typ: TYP,
          requiredClaims: ['sub', 'exp', 'sid'],
        });
        if (typeof payload.sub !== 'string' || typeof payload['sid'] !== 'string') throw new errors.JWTInvalid('bad claims');
        return { userId: payload.sub, sessionId: payload['sid'] };
      } catch (error) {
        if (error instanceof errors.JWTExpired) throw new AppError('TOKEN_EXPIRED', 'The access token has expired');
        throw new AppError('UNAUTHORIZED', 'The access token is not valid');
      }
    },
  };
}
