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
  processId: string;
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
  /** How often an asker still waiting checks that the processes it asked still listen. */
  checkEveryMs: number;
}

/**
 * Requests over Redis pub/sub: each process listens on a channel named for its id, and hears the
 * answers to its own requests on one named for this connection. A request published to a channel
 * nobody listens on (PUBLISH counts no receiver) is for a process that is gone, so the asker knows at
 * once; so is one whose channel loses its listener while the asker waits (it died with the request,
 * which would otherwise hold the asker, and whatever it locked meanwhile, for the whole bound); one that
 * listens but does not answer in time (hung, cut off from Redis) fails by the bound.
 */
export async function redisProcessRequests(options: RedisProcessRequestsOptions): Promise<ProcessRequests> {
  const { publisher, subscriber, prefix, logger, timeoutMs, checkEveryMs } = options;
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

  const settle = (id: string, outcome: (entry: Waiting) => void): void => {
    const entry = waiting.get(id);
    if (!entry) return;
    waiting.delete(id);
    clearTimeout(entry.timer);
    outcome(entry);
    if (waiting.size === 0) clearInterval(checking);
  };
  const answered = (message: Reply): void =>
    settle(message.id, (entry) => {
      if (message.ok) entry.resolve(message.result);
      else if (message.error) entry.reject(appErrorOf(message.error));
      else entry.reject(new Error('the process asked failed to answer'));
    });

  let checking: NodeJS.Timeout | undefined;
  const checkListeners = async (): Promise<void> => {
    const asked = [...new Set([...waiting.values()].map((entry) => entry.processId))];
    if (asked.length === 0) return;
    let counts: unknown[];
    try {
      counts = (await publisher.pubsub('NUMSUB', ...asked.map(requestsOf))) as unknown[];
    } catch {
      return; // Redis unreachable: the bound still holds.
    }
    const gone = new Set(asked.filter((_, index) => Number(counts[index * 2 + 1]) === 0));
    for (const [id, entry] of waiting) if (gone.has(entry.processId)) settle(id, () => entry.reject(new ProcessGoneError(entry.processId)));
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
    else answered(message as Reply);
  });
  await subscriber.subscribe(mine, replies);

  return {
    answer(kind, handler) {
      if (handlers.has(kind)) throw new Error(`requests of kind ${kind} are answered already`);
      handlers.set(kind, handler);
    },
    async ask(processId, kind, payload) {
      const id = newId();
      const answer = new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(
          () => settle(id, () => reject(new AppError('UNAVAILABLE', 'Another server process did not answer in time; try again in a moment'))),
          timeoutMs,
        );
        if (waiting.size === 0) checking = setInterval(() => void checkListeners(), checkEveryMs);
        waiting.set(id, { processId, resolve, reject, timer });
      });
      // A check may reject it before the publish below decides the outcome, which then is not `answer`.
      answer.catch(() => undefined);
      const forget = () => settle(id, () => undefined);
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
      return answer;
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
