import { z } from 'zod';

export const adminUserParams = z.object({ id: z.uuid({ message: 'must be an id' }) });

export const adminUpdateUserBody = z
  .object({
    status: z.enum(['active', 'banned', 'deleted']).optional(),
    role: z.enum(['user', 'admin']).optional(),
  })
  .refine((body) => body.status !== undefined || body.role !== undefined, 'give status, role or both');
