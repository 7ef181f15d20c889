import type { LiveCalls } from '../calls/live-calls.js';
import type { LiveGroupCalls } from '../calls/live-group-calls.js';
import type { LiveFiguresResponse } from '../protocol/admin.js';
import type { MessagesRepository } from '../storage/ports.js';
import type { PresenceTracker } from '../users/presence-tracker.js';

/**
 * What is going on now, for the admin dashboard. Presence and live calls are the shared ones (Redis with
 * several processes), so users and calls are cluster-wide; messages are counted in the database, so
 * they are too. Sockets are this process's own: counting every process's would ask each of them over
 * the adapter (io.fetchSockets), which hands over every socket's data, on every poll.
 */
export class LiveFigures {
  constructor(
    private readonly deps: {
      presence: PresenceTracker;
      liveCalls: LiveCalls;
      liveGroupCalls: LiveGroupCalls;
      messages: MessagesRepository;
      /** This process's connected sockets. */
      sockets: () => number;
    },
    private readonly now: () => Date = () => new Date(),
  ) {}

  async read(): Promise<LiveFiguresResponse> {
    const now = this.now();
    // Up to the next millisecond, so a message of this very millisecond counts.
    const lastMinute = { from: new Date(now.getTime() - 60_000), to: new Date(now.getTime() + 1) };
    const [connectedUsers, calls, groupCalls, messagesPerMinute] = await Promise.all([
      this.deps.presence.onlineCount(),
      this.deps.liveCalls.all(),
      this.deps.liveGroupCalls.all(),
      this.deps.messages.countCreated(lastMinute),
    ]);
    return {
      connectedUsers,
      connectedSockets: this.deps.sockets(),
      callsInProgress: calls.length,
      groupCallsInProgress: groupCalls.length,
      messagesPerMinute,
    };
  }
}
