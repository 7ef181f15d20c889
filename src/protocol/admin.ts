import { z } from 'zod';
import { idSchema } from './common.js';

export const adminUserParams = z.object({ id: idSchema });

export const adminUpdateUserBody = z
  .object({
    status: z.enum(['active', 'banned', 'deleted']).optional(),
    role: z.enum(['user', 'admin']).optional(),
  })
  .refine((body) => body.status !== undefined || body.role !== undefined, 'give status, role or both');
