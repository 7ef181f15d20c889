import { randomUUID } from 'node:crypto';
import cors from 'cors';
import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../shared/logger.js';
import { routePatterns } from './app-routes.js';
import { errorHandler, notFound } from './error-handler.js';

/** The contract's JSON body limit. */
export const JSON_BODY_LIMIT = '100kb';

export interface HttpAppOptions {
  logger: Logger;
  corsOrigins: (string | RegExp)[];
  trustProxy: boolean | number | string;
  /** Mounted in order after the shared middleware. */
  routes: { path: string; router: Router }[];
  /** Told of every response once it is sent. */
  observeResponse: (response: ObservedResponse) => void;
}

export interface ObservedResponse {
  method: string;
  /** The route's pattern (`/api/chat/conversations/:id`), or UNMATCHED_ROUTE: never the URL itself. */
  route: string;
  status: number;
  seconds: number;
}

/** The route of a request that matched none (a 404, or a file under a static folder). */
const UNMATCHED_ROUTE = 'unmatched';

const REQUEST_ID = /^[\w.-]{1,100}$/;

/** Express with the shared middleware every route gets, the feature routers, and the JSON 404 and error renderer. */
export function createHttpApp(options: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy);
  let patternOf: ReturnType<typeof routePatterns> = () => undefined;
  app.use((req, res, next) => {
    const started = performance.now();
    res.once('finish', () =>
      options.observeResponse({
        method: req.method,
        route: patternOf(req.route as object | undefined) ?? UNMATCHED_ROUTE,
        status: res.statusCode,
        seconds: (performance.now() - started) / 1000,
      }),
    );
    next();
  });
  app.use(
    pinoHttp({
      logger: options.logger,
      // req.log carries the request id alone (requireAuth adds the user's); the line of each response has both.
      quietReqLogger: true,
      customProps: (_req, res) => (res.locals.principal ? { userId: res.locals.principal.userId } : {}),
      serializers: {
        req: (req: { id: unknown; method: string; url: string }) => ({ id: req.id, method: req.method, url: req.url }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      genReqId: (req, res) => {
        const incoming = req.headers['x-request-id'];
        const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
        res.setHeader('X-Request-Id', id);
        return id;
      },
    }),
  );
  app.use(helmet());
  app.use(cors({ origin: options.corsOrigins, maxAge: 600 }));
  app.use(express.json({ limit: JSON_BODY_LIMIT }));
  for (const { path, router } of options.routes) app.use(path, router);
  app.use((req) => notFound(req));
  app.use(errorHandler);
  patternOf = routePatterns(app);
  return app;
}
