/**
 * The baseline: a bare Socket.io relay with the server's event names and ack shapes, and nothing else.
 * No authentication (the handshake's `auth.userId` is believed, `auth.groups` lists the group rooms to
 * join), no validation, no storage, no budgets. What it costs is what Socket.io itself costs; the
 * benchmarks report the real server as a ratio to it. Prints one JSON "listening" line with its port.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Server } from 'socket.io';
import { serveProcessStats } from './process-stats.js';

interface RelayAuth {
  userId: string;
  groups?: string[];
}

type Ack = (response: unknown) => void;

const httpServer = createServer();
const io = new Server(httpServer, { transports: ['websocket'], serveClient: false });

io.on('connection', (socket) => {
  const { userId, groups = [] } = socket.handshake.auth as RelayAuth;
  void socket.join([`user:${userId}`, ...groups.map((id) => `conversation:${id}`)]);

  socket.on('CHAT_MESSAGE', (payload: { to?: string; conversationId?: string; text: string; clientMessageId?: string }, ack: Ack) => {
    const message = {
      id: randomUUID(),
      conversationId: payload.conversationId ?? `direct:${payload.to}`,
      from: userId,
      to: payload.to ?? null,
      text: payload.text,
      clientMessageId: payload.clientMessageId ?? null,
      createdAt: new Date().toISOString(),
      deliveredAt: null,
      readAt: null,
    };
    if (payload.to) {
      io.to(`user:${payload.to}`).emit('CHAT_MESSAGE', { message });
      socket.to(`user:${userId}`).emit('CHAT_MESSAGE', { message });
    } else {
      socket.to(`conversation:${payload.conversationId}`).emit('CHAT_MESSAGE', { message });
    }
    ack({ ok: true, message });
  });

  socket.on('CALL_REQUEST', (payload: { to: string; type: string; offer: unknown }, ack: Ack) => {
    const call = { id: randomUUID(), callerId: userId, calleeId: payload.to, type: payload.type, status: 'ringing' };
    io.to(`user:${payload.to}`).emit('CALL_REQUEST', { call, offer: payload.offer });
    ack({ ok: true, call });
  });
  for (const event of ['CALL_ACCEPT', 'CALL_ENDED']) {
    socket.on(event, (payload: { callId: string }, ack: Ack) => ack({ ok: true, call: { id: payload.callId } }));
  }
});

httpServer.listen(0, '127.0.0.1', () => {
  const address = httpServer.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  console.log(JSON.stringify({ msg: 'listening', port, startupMs: Math.round(performance.now()) }));
});
serveProcessStats();
process.once('SIGTERM', () => {
  void io.close(() => process.exit(0));
});
