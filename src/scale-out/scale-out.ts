import type { Store } from 'express-rate-limit';
import type { Server } from 'socket.io';
import type { CallTimers } from '../calls/call-timers.js';
import type { LiveCalls } from '../calls/live-calls.js';
import type { LiveGroupCalls } from '../calls/live-group-calls.js';
import type { DomainEvents } from '../shared/domain-events.js';
import type { Serializer } from '../shared/keyed-queue.js';
import type { RateLimit, RateLimitSettings } from '../shared/rate-limit.js';
import type { PresenceTracker } from '../users/presence-tracker.js';
import type { Claims } from './claims.js';
import type { ProcessRequests } from './process-requests.js';

/**
 * Everything that must be shared when several processes serve one user space, behind one interface:
 * one process keeps it in memory (`singleProcess`), several share it through Redis (`redisScaleOut`).
 * The composition root picks one; features see only the parts they are given.
 */
export interface ScaleOut {
  /** For the start-up log and /ready. */
  readonly mode: 'single-process' | 'redis';
  /** Lets this Socket.io server's rooms reach the sockets of every process. */
  attach(io: Server): void;
  /** A per-key budget (a user's), counted across every process. */
  budget(settings: RateLimitSettings, what: string): RateLimit;
  /** The store of an express-rate-limit limiter named `name`; undefined keeps its counters in memory. */
  httpRateLimitStore(name: string): Store | undefined;
  /** Hears the domain events every process must hear, wherever they were emitted, and re-emits them here. */
  relay(events: DomainEvents): void;
  presence: PresenceTracker;
  liveCalls: LiveCalls;
  liveGroupCalls: LiveGroupCalls;
  /** Timers that fire once, in one process, whichever process started them. */
  callTimers<T extends string>(kind: string): CallTimers<T>;
  /** Runs the tasks of one key one at a time across every process. */
  serializer(kind: string): Serializer;
  /** Which process holds each key of `kind`, as every process sees it. */
  claims(kind: string): Claims;
  /** Asks another process, by id, for what only it can do. */
  requests: ProcessRequests;
  /** Throws when the shared store cannot be reached. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
