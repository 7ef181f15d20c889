import { errors, jwtVerify, SignJWT } from 'jose';
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

export interface AccessTokens {
  sign(claims: AccessTokenClaims): Promise<string>;
  /** Throws UNAUTHORIZED or TOKEN_EXPIRED. */
  verify(token: string): Promise<AccessTokenClaims & { expiresAt: Date }>;
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
        // Only a signed token gets here, but its claims are still checked: a `sid` that is not an id is never looked up.
        const userId = idSchema.safeParse(payload.sub);
        const sessionId = idSchema.safeParse(payload['sid']);
        if (!userId.success || !sessionId.success) throw new errors.JWTInvalid('bad claims');
        return { userId: userId.data, sessionId: sessionId.data, expiresAt: new Date(payload.exp! * 1000) };
      } catch (error) {
        if (error instanceof errors.JWTExpired) throw new AppError('TOKEN_EXPIRED', 'The access token has expired');
        throw new AppError('UNAUTHORIZED', 'The access token is not valid');
      }
    },
  };
}
