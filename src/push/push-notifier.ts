import type { DomainEventMap, DomainEvents } from '../shared/domain-events.js';
import { InFlight } from '../shared/in-flight.js';
import { KeyedQueue } from '../shared/keyed-queue.js';
import type { Logger } from '../shared/logger.js';
import type { ConversationsRepository, MessagesRepository, UserRecord, UsersRepository } from '../storage/ports.js';
import type { PresenceTracker } from '../users/presence-tracker.js';
import type { NewPush, PushStore } from './push-store.js';

/** Android notification channels and the iOS category an app creates for these pushes (docs/api/push.md). */
export const PUSH_CHANNELS = { messages: 'messages', calls: 'calls' } as const;
export const INCOMING_CALL_CATEGORY = 'incoming_call';

/** Characters of a message's text shown in its notification. */
export const PREVIEW_LENGTH = 200;
const MESSAGE_TTL_MS = 24 * 60 * 60 * 1000;
const MISSED_CALL_TTL_MS = 24 * 60 * 60 * 1000;
/** A stop-ringing push is useless once the phone would have stopped by itself anyway. */
const CALL_ENDED_TTL_MS = 60 * 1000;

export interface PushNotifierDeps {
  events: DomainEvents;
  store: PushStore;
  /** Told after each enqueue, so due pushes go out without waiting for the next poll. */
  worker: { nudge(queued: number, dueAt?: Date): void };
  messages: Pick<MessagesRepository, 'unreadTotals'>;
  /** A group's members (who gets its messages) and title (the notification's). */
  conversations: Pick<ConversationsRepository, 'memberIds' | 'find'>;
  /** Which recipients of a message are online: a connected device had it on its socket, so they need no push. */
  presence: Pick<PresenceTracker, 'onlineAmong'>;
  users: Pick<UsersRepository, 'findById'>;
  logger: Logger;
  /** Message text in the notification; false shows "New message" instead. */
  preview: boolean;
  coalesceMs: number;
  now?: () => Date;
}

type MessageStored = DomainEventMap['messageStored'][0];
type CallRang = DomainEventMap['callRang'][0];
type CallStoppedRinging = DomainEventMap['callStoppedRinging'][0];
type GroupCallRang = DomainEventMap['groupCallRang'][0];
type GroupCallStoppedRinging = DomainEventMap['groupCallStoppedRinging'][0];

/**
 * Turns what chat and calls announce into pushes in the outbox. Runs after the change it reacts to was
 * stored (the events are emitted then), so a push never tells of something that did not happen. A
 * failure is logged and goes no further: the message or the call it is about has already succeeded.
 */
export class PushNotifier {
  /**
   * Pushes of one direct recipient, one group or one call are queued in the order their events came, so
   * the newest message of a conversation is the one a coalesced push shows.
   */
  private readonly queue = new KeyedQueue();
  private readonly inFlight = new InFlight();
  private readonly now: () => Date;
  private unsubscribe = () => {};

  constructor(private readonly deps: PushNotifierDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  start(): void {
    const { events } = this.deps;
    const onMessage = (event: MessageStored) => {
      const key = event.recipientId === null ? `conversation:${event.conversationId}` : `user:${event.recipientId}`;
      this.schedule(key, 'message', () => this.message(event));
    };
    const onRang = (event: CallRang) => this.schedule(`call:${event.callId}`, 'incoming call', () => this.call(event));
    const onStopped = (event: CallStoppedRinging) => this.schedule(`call:${event.callId}`, 'call ended', () => this.callEnded(event));
    const onGroupRang = (event: GroupCallRang) => this.schedule(`call:${event.callId}`, 'incoming group call', async () => this.groupCall(event));
    const onGroupStopped = (event: GroupCallStoppedRinging) =>
      this.schedule(`call:${event.callId}`, 'group call ended', async () => event.userIds.map((userId) => this.stopRinging(userId, event.callId, event.reason)));
    events.on('messageStored', onMessage).on('callRang', onRang).on('callStoppedRinging', onStopped);
    events.on('groupCallRang', onGroupRang).on('groupCallStoppedRinging', onGroupStopped);
    this.unsubscribe = () => {
      events.off('messageStored', onMessage).off('callRang', onRang).off('callStoppedRinging', onStopped);
      events.off('groupCallRang', onGroupRang).off('groupCallStoppedRinging', onGroupStopped);
    };
  }

  /** Stops listening and waits (at most `timeoutMs`) for the pushes being queued, so none is cut off by the storage closing. */
  async stop(timeoutMs: number): Promise<void> {
    this.unsubscribe();
    await this.inFlight.drain(timeoutMs);
  }

  private schedule(key: string, what: string, task: () => Promise<NewPush[]>): void {
    const work = this.queue
      .run(key, async () => {
        const pushes = await task();
        const queued = await this.deps.store.enqueueMany(pushes);
        if (queued > 0) this.deps.worker.nudge(queued, new Date(Math.min(...pushes.map((push) => push.dueAt.getTime()))));
      })
      .catch((error: unknown) => this.deps.logger.error({ err: error, key }, `could not queue the ${what} push`));
    this.inFlight.track(work);
  }

  /**
   * For each recipient (the other party of a direct message, or every member of a group but the sender)
   * with no connected device: a connected one had the message on its socket. One push per recipient,
   * queued together.
   */
  private async message(event: MessageStored): Promise<NewPush[]> {
    const recipients =
      event.recipientId !== null
        ? [event.recipientId]
        : (await this.deps.conversations.memberIds(event.conversationId)).filter((userId) => userId !== event.senderId);
    const online = await this.onlineAmong(recipients);
    const offline = recipients.filter((userId) => !online.has(userId));
    if (offline.length === 0) return [];
    const sender = await this.deps.users.findById(event.senderId);
    if (!sender) return [];
    const notice = await this.messageNotice(event, sender);
    if (!notice) return [];
    const sentAt = event.createdAt.getTime();
    const badges = await this.deps.messages.unreadTotals(offline);
    return offline.map((userId) => ({
        userId,
        kind: 'message',
        content: {
          ...notice.content,
          data: { type: 'message', messageId: event.messageId, conversationId: event.conversationId, from: event.senderId },
          priority: 'high',
          sound: 'default',
          badge: badges.get(userId) ?? 0,
          channelId: PUSH_CHANNELS.messages,
          collapseId: notice.key,
        },
        // The window starts with the message, however long it took to get here.
        dueAt: new Date(sentAt + this.deps.coalesceMs),
        expiresAt: new Date(sentAt + MESSAGE_TTL_MS),
        coalesceKey: notice.key,
      }));
  }

  /**
   * Who among `userIds` has a connected device. When presence cannot say (shared presence unreachable),
   * nobody: a push too many beats a message nobody is told of.
   */
  private async onlineAmong(userIds: string[]): Promise<Set<string>> {
    try {
      return await this.deps.presence.onlineAmong(userIds);
    } catch (error) {
      this.deps.logger.warn({ err: error }, 'presence is unavailable: pushing the message to every recipient');
      return new Set();
    }
  }

  /**
   * What a message's notification says, and the key its pushes coalesce under: one notification per
   * recipient and conversation. A direct conversation is its sender's (as the recipient sees it), a
   * group its own, whoever wrote. Null when the group is gone.
   */
  private async messageNotice(event: MessageStored, sender: UserRecord): Promise<{ content: { title: string; body: string }; key: string } | null> {
    // A message of attachments only has no text to show.
    const text = this.deps.preview && !event.encrypted && event.text !== '' ? preview(event.text) : 'New message';
    if (event.recipientId !== null) return { content: { title: sender.name, body: text }, key: `message:${event.senderId}` };
    const group = await this.deps.conversations.find(event.conversationId);
    if (!group?.title) return null;
    return { content: { title: group.title, body: `${sender.name}: ${text}` }, key: `conversation:${event.conversationId}` };
  }

  private async call(event: CallRang): Promise<NewPush[]> {
    return this.ring([event.calleeId], event, {
      title: event.callType === 'video' ? 'Incoming video call' : 'Incoming audio call',
      body: event.caller.name,
      data: { type: 'call', callId: event.callId, callType: event.callType, from: event.caller },
    });
  }

  /** Every rung member of a group call, as a 1:1 callee. */
  private groupCall(event: GroupCallRang): NewPush[] {
    return this.ring(event.memberIds, event, {
      title: event.title,
      body: `${event.caller.name}: ${event.callType === 'video' ? 'video call' : 'audio call'}`,
      data: { type: 'call', callId: event.callId, callType: event.callType, from: event.caller, conversationId: event.conversationId },
    });
  }

  /** The ring on a phone whose app is asleep, one per user. */
  private ring(
    userIds: readonly string[],
    call: { callId: string; ringTimeoutMs: number },
    notice: { title: string; body: string; data: Record<string, unknown> },
  ): NewPush[] {
    const now = this.now();
    return userIds.map((userId) => ({
      userId,
      kind: 'call',
      content: {
        ...notice,
        priority: 'high',
        sound: 'default',
        channelId: PUSH_CHANNELS.calls,
        categoryId: INCOMING_CALL_CATEGORY,
        collapseId: `call:${call.callId}`,
      },
      dueAt: now,
      // A ring that arrives after the call stopped ringing is worse than none.
      expiresAt: new Date(now.getTime() + call.ringTimeoutMs),
      coalesceKey: null,
    }));
  }

  /** The silent push that stops a ringing phone. */
  private stopRinging(userId: string, callId: string, reason: CallStoppedRinging['reason']): NewPush {
    const now = this.now();
    return {
      userId,
      kind: 'call_ended',
      content: { data: { type: 'call_ended', callId, reason }, priority: 'high', contentAvailable: true },
      dueAt: now,
      expiresAt: new Date(now.getTime() + CALL_ENDED_TTL_MS),
      coalesceKey: null,
    };
  }

  private async callEnded(event: CallStoppedRinging): Promise<NewPush[]> {
    const now = this.now();
    const pushes: NewPush[] = [this.stopRinging(event.calleeId, event.callId, event.reason)];
    if (!event.missed) return pushes;
    const caller = await this.deps.users.findById(event.callerId);
    const from = { id: event.callerId, name: caller?.name ?? '' };
    pushes.push({
      userId: event.calleeId,
      kind: 'missed_call',
      content: {
        title: 'Missed call',
        body: from.name,
        data: { type: 'missed_call', callId: event.callId, from },
        priority: 'default',
        channelId: PUSH_CHANNELS.calls,
        // Takes the place of the incoming-call notification where the platform supports it (iOS).
        collapseId: `call:${event.callId}`,
      },
      dueAt: now,
      expiresAt: new Date(now.getTime() + MISSED_CALL_TTL_MS),
      coalesceKey: null,
    });
    return pushes;
  }
}

/** The first PREVIEW_LENGTH characters (code points: an emoji is never cut in half), with an ellipsis when cut. */
function preview(text: string): string {
  const characters = Array.from(text);
  return characters.length <= PREVIEW_LENGTH ? text : `${characters.slice(0, PREVIEW_LENGTH).join('')}…`;
}
