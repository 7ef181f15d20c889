/**
 * The one way values reach a MongoDB filter or update: through these checks. A filter is written in
 * code (its operators are ours); every value in it passes `scalar`, which refuses anything but a string,
 * a finite number, a boolean, a Date or null. So a value that came from a request can never be an
 * object such as `{ $ne: null }` (what mongoose's `sanitizeFilter` guards against), whatever a caller
 * forgot to validate. Strings are inert in filters; the few aggregation expressions that carry a value
 * wrap it in `$literal` (`literal`), so a string beginning with `$` is never read as a field path.
 */
export type Scalar = string | number | boolean | Date | null;

export class UnsafeFilterValue extends TypeError {
  constructor(value: unknown) {
    super(`refused a ${value === null ? 'null' : typeof value} value where a query takes a string, number, boolean or date`);
    this.name = 'UnsafeFilterValue';
  }
}

export function scalar<T extends Scalar>(value: T): T {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (value instanceof Date && !Number.isNaN(value.getTime())) return value;
  throw new UnsafeFilterValue(value);
}

export function scalars<T extends Scalar>(values: readonly T[]): T[] {
  if (!Array.isArray(values)) throw new UnsafeFilterValue(values);
  return values.map(scalar);
}

/** An equality filter on these fields, every value checked. */
export function by<T extends Record<string, Scalar>>(fields: T): T {
  const checked: Record<string, Scalar> = {};
  for (const [field, value] of Object.entries(fields)) checked[field] = scalar(value);
  return checked as T;
}

/** `{ $in: values }`, every value checked. */
export const among = <T extends Scalar>(values: readonly T[]) => ({ $in: scalars(values) });

/** A value inside an aggregation expression, never read as a field path or an operator. */
export const literal = (value: Scalar) => ({ $literal: scalar(value) });

/** A regular expression matching strings that start with `text`, every character of it literal. */
export function startsWith(text: string): RegExp {
  return new RegExp(`^${scalar(text).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
}
