/**
 * JSON for records kept in Redis that hold Dates: a Date is written as `{ "$date": iso }` and read back
 * as a Date, so a record comes back exactly as it was saved.
 */
export function toRedisJson(value: unknown): string {
  return JSON.stringify(value, function (this: Record<string, unknown>, key, field: unknown) {
    const original = this[key];
    return original instanceof Date ? { $date: original.toISOString() } : field;
  });
}

export function fromRedisJson<T>(text: string): T {
  return JSON.parse(text, (_key, field: unknown) => {
    if (field !== null && typeof field === 'object' && '$date' in field && Object.keys(field).length === 1) {
      return new Date((field as { $date: string }).$date);
    }
    return field;
  }) as T;
}
