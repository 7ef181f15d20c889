import { deleteMessagePayload, editMessagePayload, messageDeliveredPayload, messageReadPayload, reactionPayload, sendMessagePayload, typingPayload } from '../protocol/chat.js';
import type { RealtimeServer } from '../realtime/realtime-server.js';
import type { ChatService } from './chat-service.js';
import type { Actor } from './conversation-access.js';
import type { MessageActions } from './message-actions.js';

/** The chat's client events: each parsed and acknowledged by realtime.handle, decided by ChatService and MessageActions. */
export function registerChatEvents(realtime: RealtimeServer, chat: ChatService, actions: MessageActions): void {
  realtime.onConnection((socket) => {
    const actor: Actor = { userId: socket.data.principal.userId, origin: socket.id };
    realtime.handle(socket, 'CHAT_MESSAGE', sendMessagePayload, (payload) => chat.send(actor, payload));
    for (const event of ['CHAT_TYPING', 'CHAT_STOP_TYPING'] as const) {
      realtime.handle(socket, event, typingPayload, async (payload) => {
        await chat.typing(actor, payload, event);
        return {};
      });
    }
    realtime.handle(socket, 'MESSAGE_READ', messageReadPayload, ({ messageId }) => chat.markRead(actor, messageId));
    realtime.handle(socket, 'MESSAGE_DELIVERED', messageDeliveredPayload, ({ messageId }) => chat.markDelivered(actor, messageId));
    realtime.handle(socket, 'MESSAGE_EDIT', editMessagePayload, (payload) => actions.edit(actor, payload));
    realtime.handle(socket, 'MESSAGE_DELETE', deleteMessagePayload, async ({ messageId, scope }) => {
      if (scope === 'everyone') return actions.deleteForEveryone(actor, messageId);
      await actions.deleteForMe(actor, messageId);
      return {};
    });
    realtime.handle(socket, 'MESSAGE_REACTION', reactionPayload, (payload) => actions.react(actor, payload));
  });
}
