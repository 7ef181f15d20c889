import type { Router } from 'express';
import { createStaticAppRouter } from '../http/static-app.js';

/**
 * The admin dashboard (packages/admin, built into `dir` by `npm run build`): the shared policy as it is
 * (its charts draw on canvas), and no camera, microphone or location at all.
 */
export function createAdminAppRouter(dir: string): Router {
  return createStaticAppRouter({
    dir,
    notBuilt: 'The admin dashboard is not built: run npm run build (npm start does).',
    permissionsPolicy: 'camera=(), microphone=(), geolocation=()',
  });
}
