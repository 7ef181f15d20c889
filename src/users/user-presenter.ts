import type { UserDto } from '../protocol/auth.js';
import type { UserRecord } from '../storage/ports.js';

export function presentUser(user: UserRecord): UserDto {
  return { id: user.id, email: user.email, name: user.name, status: user.status, role: user.role, createdAt: user.createdAt.toISOString() };
}
