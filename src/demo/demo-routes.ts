import { existsSync } from 'node:fs';
import express, { Router } from 'express';
import helmet from 'helmet';

/**
 * The demo web app (packages/demo, built into `dir` by `npm run build`). Its CSP allows this origin
 * only: scripts, styles and connections (REST and the Socket.io WebSocket) to 'self', camera and
 * microphone streams and their blobs as media; WebRTC itself is not governed by CSP.
 */
export function createDemoRouter(dir: string): Router {
  const router = Router();
  router.use(
    helmet.contentSecurityPolicy({
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        mediaSrc: ["'self'", 'blob:', 'mediastream:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    }),
  );
  router.use((_req, res, next) => {
    res.setHeader('Permissions-Policy', 'camera=(self), microphone=(self), geolocation=()');
    next();
  });
  if (existsSync(dir)) router.use(express.static(dir, { index: 'index.html', redirect: true }));
  // Pages, not API routes: a middleware either way, so the API reference's route table leaves them out.
  else router.use((_req, res) => void res.status(404).type('text/plain').send('The demo is not built: run npm run build (npm start does).'));
  return router;
}
