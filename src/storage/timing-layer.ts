import type { Storage } from './ports.js';

/**
 * Asked once per operation when the layer is built; what it returns is called with each call's duration
 * in milliseconds (so a recorder can resolve its labels once, not on every call).
 */
export type OperationTimer = (repository: string, method: string) => (durationMs: number) => void;

/** Operations of Storage itself (ping, close) are timed under this repository name. */
export const STORAGE_ITSELF = 'storage';

function timed(target: object, operation: (...args: unknown[]) => unknown, record: (durationMs: number) => void) {
  return async function timedOperation(...args: unknown[]): Promise<unknown> {
    const started = performance.now();
    try {
      return await operation.apply(target, args);
    } finally {
      record(performance.now() - started);
    }
  };
}

/** Every method name of `target`, its own and its classes' (not Object's). */
function methodNames(target: object): string[] {
  const names = new Set<string>();
  for (let level: object | null = target; level && level !== Object.prototype; level = Object.getPrototypeOf(level) as object | null) {
    for (const name of Object.getOwnPropertyNames(level)) {
      if (name !== 'constructor' && typeof (target as Record<string, unknown>)[name] === 'function') names.add(name);
    }
  }
  return [...names];
}

/**
 * `target` seen through the layer: its methods timed under `name` (called on `target` itself, so `this`
 * and private fields work), its objects through `nested` when given, its other members (processes.id)
 * read from it as they are.
 */
function timeMembers<T extends object>(target: T, name: string, timer: OperationTimer, nested?: (member: object, key: string) => object): T {
  const members = target as Record<string, unknown>;
  const layer: Record<string, unknown> = {};
  for (const key of Object.keys(target)) {
    const member = members[key];
    if (nested && typeof member === 'object' && member !== null) layer[key] = nested(member, key);
    else if (typeof member !== 'function') Object.defineProperty(layer, key, { enumerable: true, get: () => members[key] });
  }
  for (const method of methodNames(target)) {
    layer[method] = timed(target, members[method] as (...args: unknown[]) => unknown, timer(name, method));
  }
  return layer as T;
}

/**
 * The storage port with every operation timed, whatever the adapter: each repository method's duration
 * goes to `timer` (repository and method names only: arguments can hold secrets). A layer over the port,
 * as the retry or cache layers it may get would be.
 */
export function withOperationTiming(storage: Storage, timer: OperationTimer): Storage {
  return timeMembers(storage, STORAGE_ITSELF, timer, (repository, key) => timeMembers(repository, key, timer));
}
