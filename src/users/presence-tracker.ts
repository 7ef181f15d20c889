/**
 * Which users have at least one connected socket. This process keeps a counter per user; with several
 * processes the same interface goes over a shared store (for instance a Redis hash of per-process
 * counts, so the sockets of a process that died can be discounted).
 */
export interface PresenceTracker {
  /** Counts a new connection; true when it is the user's first (they came online). */
  connected(userId: string): Promise<boolean>;
  /** Counts a closed connection; true when it was the user's last (they went offline). */
  disconnected(userId: string): Promise<boolean>;
  onlineAmong(userIds: readonly string[]): Promise<Set<string>>;
}

export class LocalPresenceTracker implements PresenceTracker {
  private readonly connections = new Map<string, number>();

  async connected(userId: string): Promise<boolean> {
    const count = (this.connections.get(userId) ?? 0) + 1;
    this.connections.set(userId, count);
    return count === 1;
  }

  async disconnected(userId: string): Promise<boolean> {
    const count = this.connections.get(userId);
    if (count === undefined) return false;
    if (count > 1) {
      this.connections.set(userId, count - 1);
      return false;
    }
    this.connections.delete(userId);
    return true;
  }

  async onlineAmong(userIds: readonly string[]): Promise<Set<string>> {
    return new Set(userIds.filter((id) => this.connections.has(id)));
  }
}
