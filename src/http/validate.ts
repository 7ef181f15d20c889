import type { z } from 'zod';
import { AppError } from '../shared/app-error.js';

/**
 * Parses one part of a request (body, params or query) or throws VALIDATION_FAILED naming the fields.
 * Path parameters are the exception: they name resources, and ids are opaque to clients, so a
 * parameter that cannot be an id names nothing, exactly like a well-formed id that matches nothing:
 * NOT_FOUND.
 */
export function parse<S extends z.ZodType>(schema: S, value: unknown, where: 'body' | 'params' | 'query'): z.infer<S> {
  const result = schema.safeParse(value ?? {});
  if (!result.success) {
    if (where === 'params') throw new AppError('NOT_FOUND', 'Nothing exists at this path');
    throw AppError.validation(result.error, where);
  }
  return result.data;
}
