import type { Redis } from 'ioredis';
import { AppError } from '../shared/app-error.js';
import { newId } from '../shared/ids.js';
import type { Logger } from '../shared/logger.js';
import { fromRedisJson, toRedisJson } from '../shared/redis-json.js';
import type { ErrorBody } from '../protocol/errors.js';
import { ProcessGoneError, type ProcessRequests, type RequestHandler } from './process-requests.js';

interface Request {
  id: string;
  kind: string;
  replyTo: string;
  payload: unknown;
}

/** `error` null: the handler failed other than with an AppError (logged where it ran). */
type Reply = { id: string; ok: true; result: unknown } | { id: string; ok: false; error: ErrorBody | null };

interface Waiting {
  resolve: (result: unknown) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export interface RedisProcessRequestsOptions {
  publisher: Redis;
  /** The connection in subscriber mode (ioredis subscribes it again after each reconnect). */
  subscriber: Redis;
  prefix: string;
  /** This process's id, which others address it by. */
  processId: string;
  logger: Logger;
  /** How long an asker waits for the answer. */
  timeoutMs: number;
}

/**
 * Requests over Redis pub/sub: each process listens on a channel named for its id, and hears the
 * answers to its own requests on one named for this connection. A request published to a channel
 * nobody listens on (PUBLISH counts no receiver) is for a process that is gone, so the asker knows at
 * once; one that listens but does not answer in time (hung, cut off from Redis) fails by the bound.
 */
export async function redisProcessRequests(options: RedisProcessRequestsOptions): Promise<ProcessRequests> {
  const { publisher, subscriber, prefix, logger, timeoutMs } = options;
  const requestsOf = (processId: string) => `${prefix}requests:${processId}`;
  const mine = requestsOf(options.processId);
  const replies = `${prefix}replies:${newId()}`;
  const handlers = new Map<string, RequestHandler>();
  const waiting = new Map<string, Waiting>();

  const reply = (to: string, message: Reply) =>
    publisher.publish(to, toRedisJson(message)).catch((error: unknown) => logger.warn({ err: error }, 'could not answer the request of another process'));

  const serve = async (request: Request): Promise<void> => {
    const handler = handlers.get(request.kind);
    try {
      if (!handler) throw new Error(`no handler for requests of kind ${request.kind}`);
      await reply(request.replyTo, { id: request.id, ok: true, result: (await handler(request.payload)) ?? null });
    } catch (error) {
      if (!(error instanceof AppError)) logger.error({ err: error, kind: request.kind }, 'failed to answer the request of another process');
      await reply(request.replyTo, { id: request.id, ok: false, error: error instanceof AppError ? error.toBody() : null });
    }
  };

  const settle = (message: Reply): void => {
    const entry = waiting.get(message.id);
    if (!entry) return;
    waiting.delete(message.id);
    clearTimeout(entry.timer);
    if (message.ok) entry.resolve(message.result);
    else if (message.error) entry.reject(appErrorOf(message.error));
    else entry.reject(new Error('the process asked failed to answer'));
  };

  subscriber.on('message', (channel: string, text: string) => {
    if (channel !== mine && channel !== replies) return;
    let message: unknown;
    try {
      message = fromRedisJson(text);
    } catch (error) {
      logger.warn({ err: error }, 'ignored an unreadable request or answer of another process');
      return;
    }
    if (channel === mine) void serve(message as Request);
    else settle(message as Reply);
  });
  await subscriber.subscribe(mine, replies);

  return {
    answer(kind, handler) {
      if (handlers.has(kind)) throw new Error(`requests of kind ${kind} are answered already`);
      handlers.set(kind, handler);
    },
    async ask(processId, kind, payload) {
      const id = newId();
      const answered = new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new AppError('UNAVAILABLE', 'Another server process did not answer in time; try again in a moment'));
        }, timeoutMs);
        waiting.set(id, { resolve, reject, timer });
      });
      const forget = () => {
        clearTimeout(waiting.get(id)?.timer);
        waiting.delete(id);
      };
      let receivers: number;
      try {
        receivers = await publisher.publish(requestsOf(processId), toRedisJson({ id, kind, replyTo: replies, payload } satisfies Request));
      } catch (error) {
        forget();
        logger.warn({ err: error, kind }, 'could not send a request to another process');
        throw new AppError('UNAVAILABLE', 'The server cannot reach its other processes; try again in a moment');
      }
      if (receivers === 0) {
        forget();
        throw new ProcessGoneError(processId);
      }
      return answered;
    },
    async others() {
      const channels = (await publisher.pubsub('CHANNELS', `${requestsOf('')}*`)) as string[];
      return channels.map((channel) => channel.slice(requestsOf('').length)).filter((processId) => processId !== options.processId);
    },
  };
}

function appErrorOf({ code, message, details, retryAfterSeconds }: ErrorBody): AppError {
  return new AppError(code, message, { ...(details ? { details } : {}), ...(retryAfterSeconds !== undefined ? { retryAfterSeconds } : {}) });
}
