import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAccessTokens } from './auth/access-tokens.js';
import { createAuthRouter } from './auth/auth-routes.js';
import { AuthService } from './auth/auth-service.js';
import { Authenticator } from './auth/authenticator.js';
import type { Config } from './config/config.js';
import { resolveJwtSecret } from './config/jwt-secret.js';
import { createHealthRouter } from './health/health-routes.js';
import { requireAuth } from './http/authenticate.js';
import { createHttpApp } from './http/http-app.js';
import { createRateLimits } from './http/rate-limits.js';
import { createRealtimeServer } from './realtime/realtime-server.js';
import { createDomainEvents } from './shared/domain-events.js';
import type { Logger } from './shared/logger.js';
import type { Storage } from './storage/ports.js';
import { openPostgresStorage } from './storage/postgres/postgres-storage.js';
import { AccountAdminService } from './users/account-admin-service.js';
import { createAdminRouter } from './users/admin-routes.js';

export interface App {
  httpServer: Server;
  storage: Storage;
  /** Listens on config.port (0 = any free port) and resolves with the port. */
  start(): Promise<number>;
  /** Stops accepting, lets in-flight work finish (bounded), then closes the database. */
  stop(): Promise<void>;
}

export function openStorage(config: Config, logger: Logger): Promise<Storage> {
  return openPostgresStorage({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, logger });
}

/** The composition root: builds every adapter, service and transport from one config. */
export async function createApp(config: Config, logger: Logger): Promise<App> {
  const secret = await resolveJwtSecret(config, logger);
  const storage = await openStorage(config, logger);
  const events = createDomainEvents();
  const accessTokens = createAccessTokens({
    secret,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    ttlSeconds: config.jwt.accessTtlSeconds,
  });
  const authenticator = new Authenticator(accessTokens, storage, events);
  const auth = new AuthService({
    storage,
    accessTokens,
    events,
    accessTtlSeconds: config.jwt.accessTtlSeconds,
    refreshTtlSeconds: config.jwt.refreshTtlSeconds,
  });
  const accounts = new AccountAdminService(storage, events);
  const authenticated = requireAuth(authenticator);

  const http = createHttpApp({
    logger,
    corsOrigins: config.corsOrigins,
    trustProxy: config.trustProxy,
    routes: [
      { path: '/', router: createHealthRouter(storage) },
      { path: '/api/auth', router: createAuthRouter({ auth, requireAuth: authenticated, rateLimits: createRateLimits(config.rateLimit) }) },
      { path: '/api/admin', router: createAdminRouter({ accounts, requireAuth: authenticated }) },
    ],
  });
  const httpServer = createServer(http);
  const realtime = createRealtimeServer({
    httpServer,
    authenticator,
    events,
    logger,
    corsOrigins: config.corsOrigins,
    recoveryWindowMs: config.realtime.recoveryWindowMs,
  });

  return {
    httpServer,
    storage,
    start: () =>
      new Promise((resolve, reject) => {
        httpServer.once('error', reject);
        httpServer.listen(config.port, config.host, () => resolve((httpServer.address() as AddressInfo).port));
      }),
    async stop() {
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      const deadline = setTimeout(() => httpServer.closeAllConnections(), config.shutdownTimeoutMs);
      await realtime.close(config.shutdownTimeoutMs);
      await closed;
      clearTimeout(deadline);
      await storage.close();
    },
  };
}
