import { z } from 'zod';

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;

/** A duration such as `900`, `45s`, `15m`, `12h` or `30d`, parsed to whole seconds. */
export const durationSeconds = z
  .string()
  .trim()
  .regex(/^\d+[smhd]?$/, 'expected a duration such as 900, 45s, 15m, 12h or 30d')
  .transform((text) => {
    const unit = text.at(-1) as string;
    return unit in UNIT_SECONDS
      ? Number(text.slice(0, -1)) * UNIT_SECONDS[unit as keyof typeof UNIT_SECONDS]
      : Number(text);
  })
  .refine((seconds) => seconds > 0, 'must be longer than zero');
