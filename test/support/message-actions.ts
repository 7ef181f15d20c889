import assert from 'node:assert/strict';
import type { Socket } from 'socket.io-client';
import type { AckResponse } from '../../src/protocol/ack.js';
import type { MessageDeleteEvent, MessageDto, MessageEditEvent, MessageReactionEvent, ReactionResult, SyncResponse } from '../../src/protocol/chat.js';
import { REPLY_PREVIEW_LENGTH } from '../../src/protocol/chat.js';
import { emitAck, type ClientSocket } from './sockets.js';

export type EditAck = AckResponse<MessageEditEvent>;
export type DeleteAck = AckResponse<{ message?: MessageDto }>;
export type ReactionAck = AckResponse<ReactionResult>;

export function edit(socket: ClientSocket, messageId: string, text: string): Promise<EditAck> {
  return emitAck<EditAck>(socket, 'MESSAGE_EDIT', { messageId, text });
}

export function deleteMessage(socket: ClientSocket, messageId: string, scope: 'everyone' | 'me'): Promise<DeleteAck> {
  return emitAck<DeleteAck>(socket, 'MESSAGE_DELETE', { messageId, scope });
}

export function react(socket: ClientSocket, messageId: string, emoji: string, action: 'add' | 'remove' = 'add', timeoutMs?: number): Promise<ReactionAck> {
  return emitAck<ReactionAck>(socket, 'MESSAGE_REACTION', { messageId, emoji, action }, timeoutMs);
}

/** Insists that an ack is ok and returns it. */
export function ok<T extends object>(ack: AckResponse<T>, what: string): { ok: true } & T {
  if (!ack.ok) assert.fail(`${what} refused: ${JSON.stringify(ack.error)}`);
  return ack;
}

/** The error code of a refused ack; fails if it was accepted. */
export function refused(ack: AckResponse, what: string): string {
  if (ack.ok) assert.fail(`${what} was accepted: ${JSON.stringify(ack)}`);
  return ack.error.code;
}

/** What a device shows of a message: everything the actions change (receipts are not followed here). */
export const shown = (message: MessageDto) => ({
  id: message.id,
  from: message.from,
  text: message.text,
  encrypted: message.encrypted,
  editedAt: message.editedAt,
  deletedAt: message.deletedAt,
  deletedBy: message.deletedBy,
  replyTo: message.replyTo,
  reactions: message.reactions,
  revision: message.revision,
});

/**
 * A client as docs/api/chat.md tells it to behave: it applies live events and sync pages to its copy of
 * the messages, keeping for each the state of the highest revision, dropping what the user hid, and
 * updating the quotes of replies when the quoted message changes.
 */
export class DeviceState {
  readonly messages = new Map<string, MessageDto>();
  /** Hidden by the user: whatever comes about them later is not shown. */
  private readonly hidden = new Set<string>();
  /** The highest revision seen of each message, also of those hidden (their changes still change quotes). */
  private readonly revisions = new Map<string, number>();
  private readonly listeners: [Socket, string, (payload: any) => void][] = [];

  /** Applies every message event `socket` receives from now on. */
  follow(socket: ClientSocket): this {
    const on = (event: string, listener: (payload: any) => void) => {
      (socket as unknown as Socket).on(event, listener);
      this.listeners.push([socket as unknown as Socket, event, listener]);
    };
    on('CHAT_MESSAGE', ({ message }: { message: MessageDto }) => this.upsert(message));
    on('MESSAGE_EDIT', ({ message }: MessageEditEvent) => this.upsert(message));
    on('MESSAGE_DELETE', (event: MessageDeleteEvent) => (event.scope === 'everyone' ? this.upsert(event.message) : this.hide(event.messageId)));
    on('MESSAGE_REACTION', (event: MessageReactionEvent) => this.reacted(event));
    return this;
  }

  /** Stops following every socket it followed. */
  stop(): void {
    for (const [socket, event, listener] of this.listeners.splice(0)) socket.off(event, listener);
  }

  /** A reaction change, live or this device's own ack. */
  reacted(state: ReactionResult): void {
    const held = this.messages.get(state.messageId);
    if (held && state.revision > held.revision) this.messages.set(held.id, { ...held, reactions: state.reactions, revision: state.revision });
  }

  hide(messageId: string): void {
    this.hidden.add(messageId);
    this.messages.delete(messageId);
  }

  /** Applies one page of sync. */
  sync(page: Pick<SyncResponse, 'messages' | 'hidden'>): void {
    for (const message of page.messages) this.upsert(message);
    for (const { messageId } of page.hidden) this.hide(messageId);
  }

  /** A message, live, from sync or from this device's own ack: kept unless a higher revision was seen. */
  upsert(message: MessageDto): void {
    if ((this.revisions.get(message.id) ?? -1) > message.revision) return;
    this.revisions.set(message.id, message.revision);
    if (!this.hidden.has(message.id)) this.messages.set(message.id, message);
    for (const reply of this.messages.values()) {
      if (reply.replyTo?.id !== message.id) continue;
      const text = [...message.text].slice(0, REPLY_PREVIEW_LENGTH).join('');
      this.messages.set(reply.id, { ...reply, replyTo: { ...reply.replyTo, text, deleted: message.deletedAt !== null } });
    }
  }

  /** The messages of a conversation as the device shows them, newest first (as history pages them). */
  of(conversationId: string) {
    return [...this.messages.values()]
      .filter((message) => message.conversationId === conversationId)
      .sort((a, b) => (a.id < b.id ? 1 : -1))
      .map(shown);
  }
}
