import type { Express } from 'express';

export interface AppRoute {
  method: string;
  /** Express's form, mount paths included: `/api/chat/conversations/:id`. */
  path: string;
}

/** The parts of Express 5's router (the `router` package) that name routes. */
interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
  rawPath?: unknown;
}

const join = (prefix: string, path: string) => `${prefix.replace(/\/$/, '')}${path === '/' ? '' : path}` || '/';

function walk(stack: Layer[], prefix: string): AppRoute[] {
  return stack.flatMap((layer) => {
    if (layer.route) return Object.keys(layer.route.methods).map((method) => ({ method, path: join(prefix, layer.route!.path) }));
    const inner = layer.handle?.stack;
    if (!inner) return [];
    if (typeof layer.rawPath !== 'string') throw new Error('A mounted router has no rawPath string: the router package changed; update test/support/express-routes.ts');
    return walk(inner, join(prefix, layer.rawPath));
  });
}

/**
 * Every route of an Express app, read from its router stack: so a route registered anywhere, however,
 * is found, with nothing for route files to remember.
 */
export function routesOf(app: Express): AppRoute[] {
  const router = (app as unknown as { router?: { stack: Layer[] } }).router;
  if (!router) throw new Error('The Express app has no router: Express 5 builds app.router with the first route');
  return walk(router.stack, '');
}
