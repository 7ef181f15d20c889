import type { AdminSessionDto } from '../protocol/admin.js';
import type { SessionRecord } from '../storage/ports.js';

/** A signed-in device as its owner and admins see it (the owner also gets its expiry and which one is theirs). */
export function presentSession(session: SessionRecord): AdminSessionDto {
  return {
    id: session.id,
    deviceName: session.deviceName,
    userAgent: session.userAgent,
    ip: session.ip,
    createdAt: session.createdAt.toISOString(),
    lastUsedAt: session.lastUsedAt.toISOString(),
  };
}
