import type { Socket } from 'socket.io';
import type { z } from 'zod';
import type { Ack } from '../protocol/ack.js';
import type { ClientToServerEvents } from '../protocol/events.js';
import { AppError, toErrorBody } from '../shared/app-error.js';
import type { Logger } from '../shared/logger.js';
import type { RateLimit } from '../shared/rate-limit.js';
import type { InFlight } from '../shared/in-flight.js';
import type { AppSocket } from './socket-types.js';

/** Events of each socket being handled right now. */
const pending = new WeakMap<AppSocket, number>();

export type ResultOf<E extends keyof ClientToServerEvents> =
  Parameters<ClientToServerEvents[E]> extends [unknown, (Ack<infer R> | undefined)?] ? R : never;

/**
 * Registers a client event the one way every event is handled: spend one of the user's budget for it,
 * validate the payload with its zod schema, run the command, answer the ack with `{ ok: true, ...result }` or `{ ok: false, error }`.
 * Nothing a client sends can throw out of here; unexpected errors are logged and answered INTERNAL.
 */
export function handleEvent<E extends keyof ClientToServerEvents, S extends z.ZodType>(
  socket: AppSocket,
  context: {
    /** The socket's logger (its lines carry socketId and userId). */
    logger: Logger;
    inFlight: InFlight;
    budget: RateLimit;
    maxPending: number;
    closing: () => boolean;
    /** Told of every handled event: `ok`, or the error code it was answered with. */
    observe: (event: E, result: string) => void;
  },
  event: E,
  schema: S,
  run: (payload: z.infer<S>) => Promise<ResultOf<E>>,
): void {
  const { logger, inFlight, budget, maxPending, closing, observe } = context;
  (socket as unknown as Socket).on(event as string, (...args: unknown[]) => {
    const work = respond(args);
    inFlight.track(work);
    pending.set(socket, (pending.get(socket) ?? 0) + 1);
    void work.finally(() => pending.set(socket, (pending.get(socket) ?? 1) - 1));
  });

  async function respond(args: unknown[]): Promise<void> {
    const ack = typeof args.at(-1) === 'function' ? (args.pop() as Ack<ResultOf<E>>) : undefined;
    try {
      if (closing()) throw new AppError('UNAVAILABLE', 'The server is restarting; send it again once reconnected');
      if ((pending.get(socket) ?? 0) >= maxPending) {
        throw new AppError('RATE_LIMITED', `At most ${maxPending} events of one connection are handled at a time; wait for their acks`, { retryAfterSeconds: 1 });
      }
      await budget.consume(socket.data.principal.userId);
      const parsed = schema.safeParse(args[0]);
      if (!parsed.success) throw AppError.validation(parsed.error);
      const result = await run(parsed.data);
      observe(event, 'ok');
      ack?.({ ok: true, ...result });
    } catch (error) {
      if (error instanceof AppError) {
        if (!ack) logger.debug({ event, code: error.code }, 'event refused');
      } else {
        logger.error({ err: error, event }, 'event failed');
      }
      const body = toErrorBody(error);
      observe(event, body.code);
      ack?.({ ok: false, error: body });
    }
  }
}
