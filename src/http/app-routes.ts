import type { Express } from 'express';

export interface AppRoute {
  method: string;
  /** Express's form, mount paths included: `/api/chat/conversations/:id`. */
  path: string;
  /** The router's object for it: what `req.route` is while a request of this route runs. */
  route: object;
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
    const { route } = layer;
    if (route) return Object.keys(route.methods).map((method) => ({ method, path: join(prefix, route.path), route }));
    const inner = layer.handle?.stack;
    if (!inner) return [];
    if (typeof layer.rawPath !== 'string') throw new Error('A mounted router has no rawPath string: the router package changed; update src/http/app-routes.ts');
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

/**
 * The route pattern (`/api/chat/conversations/:id/messages`) of the request `req.route` names, whatever
 * router it is mounted in: `req.baseUrl` cannot tell it once an error has left the router it was in.
 */
export function routePatterns(app: Express): (route: object | undefined) => string | undefined {
  const patterns = new WeakMap(routesOf(app).map(({ route, path }) => [route, path]));
  return (route) => (route ? patterns.get(route) : undefined);
}
