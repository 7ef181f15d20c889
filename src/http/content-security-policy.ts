import type { RequestHandler } from 'express';
import helmet from 'helmet';

/**
 * The CSP of every page this server serves: scripts, styles, images and connections (REST and the
 * Socket.io WebSocket) from this origin only (images also as data: URIs), nothing inline, no plugins,
 * no framing. A page adds the sources it needs beyond that, or loosens one (the API reference may be framed by itself).
 */
export function strictContentSecurityPolicy(directives: Record<string, string[]> = {}): RequestHandler {
  return helmet.contentSecurityPolicy({
    useDefaults: false,
    directives: {
      defaultSrc: ["'self'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'", 'data:'],
      connectSrc: ["'self'"],
      objectSrc: ["'none'"],
      baseUri: ["'self'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
      ...directives,
    },
  });
}
