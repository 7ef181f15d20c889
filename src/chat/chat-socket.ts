import { messageDeliveredPayload, messageReadPayload, sendMessagePayload, typingPayload } from '../protocol/chat.js';
import type { RealtimeServer } from '../realtime/realtime-server.js';
import type { Actor, ChatService } from './chat-service.js';

/** The chat's client events: each parsed and acknowledged by realtime.handle, decided by ChatService. */
export function registerChatEvents(realtime: RealtimeServer, chat: ChatService): void {
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
  });
}
