import type { z } from 'zod';
import { AppError } from '../shared/app-error.js';

/** Parses one part of a request (body, params or query) or throws VALIDATION_FAILED naming the fields. */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'params' | 'query'): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) throw AppError.validation(result.error, where);
  return result.data;
}
