import type { Router } from 'express';
import { createStaticAppRouter } from '../http/static-app.js';

/**
 * The demo web app (packages/demo, built into `dir` by `npm run build`). Beyond the shared policy it
 * plays camera and microphone streams and their blobs as media (WebRTC itself is not governed by CSP).
 */
export function createDemoRouter(dir: string): Router {
  return createStaticAppRouter({
    dir,
    notBuilt: 'The demo is not built: run npm run build (npm start does).',
    directives: { imgSrc: ["'self'", 'data:', 'blob:'], mediaSrc: ["'self'", 'blob:', 'mediastream:'] },
    permissionsPolicy: 'camera=(self), microphone=(self), geolocation=()',
  });
}
