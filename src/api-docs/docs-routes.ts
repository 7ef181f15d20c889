import { createRequire } from 'node:module';
import path from 'node:path';
import { Router } from 'express';
import { strictContentSecurityPolicy } from '../http/content-security-policy.js';
import type { ClientEventName } from '../realtime/event-budgets.js';
import { AppError } from '../shared/app-error.js';
import { buildEventReference, eventReferenceHtml, type BudgetDescription } from './event-reference.js';
import { buildOpenApiDocument } from './openapi.js';

/** Swagger UI's files, served from its npm package: the server may run offline, so nothing comes from a CDN. */
const SWAGGER_UI_DIR = path.dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
const SWAGGER_UI_FILES = new Set(['swagger-ui.css', 'swagger-ui-bundle.js', 'favicon-32x32.png', 'favicon-16x16.png']);

/**
 * The reference pages load only what this server serves. Images may be data: URIs (Swagger UI's
 * style sheet draws its icons with them); nothing else is allowed, inline scripts and styles included.
 */
const docsPolicy = strictContentSecurityPolicy({ fontSrc: ["'self'"], frameAncestors: ["'self'"] });

const SWAGGER_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>call-app-backend API reference</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
<link rel="stylesheet" href="/docs/docs.css">
<link rel="icon" type="image/png" href="/docs/assets/favicon-32x32.png" sizes="32x32">
</head>
<body>
<nav><a href="/docs">REST API</a> · <a href="/openapi.json">openapi.json</a> · <a href="/docs/events">Socket.io events</a></nav>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/swagger-init.js"></script>
</body>
</html>
`;

// validatorUrl: null, or Swagger UI shows a badge fetched from validator.swagger.io.
const SWAGGER_INIT = `window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, validatorUrl: null, tryItOutEnabled: false });\n`;

const STYLE_SHEET = `body { margin: 0; font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1b1f24; line-height: 1.5; }
nav { padding: 0.6rem 1rem; background: #1b1f24; color: #d0d7de; font-size: 0.9rem; }
nav a { color: #fff; }
main { max-width: 70rem; margin: 0 auto; padding: 1rem; }
h3 code { font-size: 1.1em; }
code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 0.9em; background: #f0f2f4; padding: 0 0.2em; border-radius: 3px; }
table { border-collapse: collapse; margin: 0.5rem 0 1rem; display: block; overflow-x: auto; }
th, td { border: 1px solid #d0d7de; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
`;

/** What the reference pages load: served for them, not part of the API (the route table leaves them out). */
export const DOCS_ASSET_ROUTES = ['/docs/swagger-init.js', '/docs/docs.css', '/docs/assets/:file'];

/** `/openapi.json`, `/docs` (Swagger UI) and `/docs/events` (the Socket.io event reference), all built once from the protocol module. */
export function createDocsRouter(deps: { budgets: Record<ClientEventName, BudgetDescription> }): Router {
  const openApi = JSON.stringify(buildOpenApiDocument());
  const events = eventReferenceHtml(buildEventReference(deps.budgets), '/docs/docs.css');
  const router = Router();

  router.get('/openapi.json', (_req, res) => {
    res.type('application/json').send(openApi);
  });
  router.get('/docs', docsPolicy, (_req, res) => {
    res.type('html').send(SWAGGER_PAGE);
  });
  router.get('/docs/events', docsPolicy, (_req, res) => {
    res.type('html').send(events);
  });
  router.get('/docs/swagger-init.js', (_req, res) => {
    res.type('text/javascript').send(SWAGGER_INIT);
  });
  router.get('/docs/docs.css', (_req, res) => {
    res.type('text/css').send(STYLE_SHEET);
  });
  router.get('/docs/assets/:file', (req, res, next) => {
    const file = req.params.file;
    if (!SWAGGER_UI_FILES.has(file)) throw new AppError('NOT_FOUND', `No route for GET ${req.path}`);
    res.sendFile(path.join(SWAGGER_UI_DIR, file), { maxAge: '1d' }, (error?: Error) => {
      if (error && !res.headersSent) next(error);
    });
  });
  return router;
}
