import { randomUUID } from 'node:crypto';
import cors from 'cors';
import express, { type Express, type Router } from 'express';
import helmet from 'helmet';
import { pinoHttp } from 'pino-http';
import type { Logger } from '../shared/logger.js';
import { errorHandler, notFound } from './error-handler.js';

/** The contract's JSON body limit. */
export const JSON_BODY_LIMIT = '100kb';

export interface HttpAppOptions {
  logger: Logger;
  corsOrigins: (string | RegExp)[];
  trustProxy: boolean | number | string;
  /** Mounted in order after the shared middleware. */
  routes: { path: string; router: Router }[];
}

const REQUEST_ID = /^[\w.-]{1,100}$/;

/** Express with the shared middleware every route gets, the feature routers, and the JSON 404 and error renderer. */
export function createHttpApp(options: HttpAppOptions): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', options.trustProxy);
  app.use(
    pinoHttp({
      logger: options.logger,
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
  return app;
}
