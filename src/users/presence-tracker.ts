/** Presence changes that no connection of this process made, for the watchers to hear of them. */
export interface PresenceChanges {
  /** These users went offline: the process that held their last connections died. */
  wentOffline(userIds: readonly string[]): Promise<void>;
  /** These users are counted online again after their count here was lost (Redis restarted, or a write failed). */
  cameOnline(userIds: readonly string[]): Promise<void>;
}

/**
 * Which users have at least one connected socket. One process keeps a counter per user
 * (LocalPresenceTracker); several share per-process counts in Redis (RedisPresenceTracker), where the
 * connections of a process that died are discounted by the survivors, which report the change.
 */
export interface PresenceTracker {
  /** Counts a new connection; true when it is the user's first (they came online). */
  connected(userId: string): Promise<boolean>;
  /** Counts a closed connection; true when it was the user's last (they went offline). */
  disconnected(userId: string): Promise<boolean>;
  onlineAmong(userIds: readonly string[]): Promise<Set<string>>;
  /** How many users are online (on every process). */
  onlineCount(): Promise<number>;
  /** Starts reporting `changes` (in one process there are none). */
  start(changes: PresenceChanges): void;
  stop(): Promise<void>;
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

  async onlineCount(): Promise<number> {
    return this.connections.size;
  }

  start(): void {}

  async stop(): Promise<void> {}
}
