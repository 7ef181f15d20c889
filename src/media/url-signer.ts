import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-SHA256 signatures for the local store's download URLs, with a key derived (HKDF) from the
 * server's JWT secret, so no other secret needs configuring and the token key signs nothing else.
 */
export class UrlSigner {
  private readonly key: Buffer;

  constructor(secret: string) {
    this.key = Buffer.from(hkdfSync('sha256', secret, '', 'call-app-backend media download urls', 32));
  }

  sign(fields: readonly string[]): string {
    return createHmac('sha256', this.key).update(fields.join('\n')).digest('base64url');
  }

  verify(fields: readonly string[], signature: string): boolean {
    const expected = Buffer.from(this.sign(fields));
    const given = Buffer.from(signature);
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
