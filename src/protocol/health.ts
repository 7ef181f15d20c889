import { z } from 'zod';

/** `GET /health`: the process answers. */
export const healthResponseSchema = z.object({ status: z.literal('ok') });

const readyChecks = {
  database: z.enum(['ok', 'unreachable']),
  redis: z.enum(['ok', 'unreachable', 'not used']).meta({ description: '`not used` when the server runs as one process (no REDIS_URL).' }),
};

/** `GET /ready`: the database answers, and Redis too when processes share it. */
export const readyResponseSchema = z.object({ status: z.literal('ready'), ...readyChecks });

/** `GET /ready` when a check fails: the error shape, each failed check a detail (`{ path: 'redis', message: 'unreachable' }`). */
export const notReadyResponseSchema = z.object({
  error: z.object({ code: z.literal('UNAVAILABLE'), message: z.string(), details: z.array(z.object({ path: z.enum(['database', 'redis']), message: z.literal('unreachable') })) }),
});
