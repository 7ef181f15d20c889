import { existsSync } from 'node:fs';
import express, { Router } from 'express';
import { strictContentSecurityPolicy } from './content-security-policy.js';

export interface StaticAppOptions {
  /** The Vite build to serve. */
  dir: string;
  /** Said (as plain text, with a 404) when `dir` does not exist. */
  notBuilt: string;
  /** Sources beyond the base policy, e.g. `{ mediaSrc: ["'self'", 'blob:'] }`. */
  directives?: Record<string, string[]>;
  /** The Permissions-Policy header: which powerful browser features the page may use. */
  permissionsPolicy: string;
}

/**
 * A built web app (packages/demo, packages/admin) with the strict CSP (content-security-policy.ts). Each
 * app adds the sources it needs beyond that and says which browser features it may use.
 */
export function createStaticAppRouter(options: StaticAppOptions): Router {
  const router = Router();
  router.use(strictContentSecurityPolicy(options.directives));
  router.use((_req, res, next) => {
    res.setHeader('Permissions-Policy', options.permissionsPolicy);
    next();
  });
  if (existsSync(options.dir)) router.use(express.static(options.dir, { index: 'index.html', redirect: true }));
  // Pages, not API routes: a middleware either way, so the API reference's route table leaves them out.
  else router.use((_req, res) => void res.status(404).type('text/plain').send(options.notBuilt));
  return router;
}
