import { createServer, type Server, type Socket } from 'node:net';
import { BSON } from 'mongodb';

const OP_REPLY = 1;
const OP_QUERY = 2004;
const OP_MSG = 2013;

/**
 * A stand-in for a standalone mongod that speaks just enough of the wire protocol for a driver to
 * connect: it answers the handshake and every command as a standalone server would answer `hello`
 * (no replica set name, not a mongos), so start-up's transaction check can be seen refusing it. No
 * MongoDB server can run on these machines; this is not one, and nothing else is tested against it.
 */
export async function startFakeStandaloneMongod(): Promise<{ uri: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const hello = () => ({
    helloOk: true,
    ismaster: true,
    isWritablePrimary: true,
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: 1,
    minWireVersion: 0,
    maxWireVersion: 21,
    readOnly: false,
    ok: 1,
  });
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    let pending = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 4 && pending.length >= pending.readInt32LE(0)) {
        const message = pending.subarray(0, pending.readInt32LE(0));
        pending = pending.subarray(message.length);
        const requestId = message.readInt32LE(4);
        const opCode = message.readInt32LE(12);
        const body = Buffer.from(BSON.serialize(hello()));
        if (opCode === OP_QUERY) {
          const prefix = Buffer.alloc(20);
          prefix.writeInt32LE(0, 0); // responseFlags
          prefix.writeBigInt64LE(0n, 4); // cursorID
          prefix.writeInt32LE(0, 12); // startingFrom
          prefix.writeInt32LE(1, 16); // numberReturned
          socket.write(frame(requestId, OP_REPLY, Buffer.concat([prefix, body])));
        } else if (opCode === OP_MSG) {
          const moreToCome = (message.readUInt32LE(16) & 2) !== 0;
          if (!moreToCome) socket.write(frame(requestId, OP_MSG, Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), body])));
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    uri: `mongodb://127.0.0.1:${port}/call_app`,
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

let nextId = 1;

function frame(responseTo: number, opCode: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(16);
  header.writeInt32LE(16 + payload.length, 0);
  header.writeInt32LE(nextId++, 4);
  header.writeInt32LE(responseTo, 8);
  header.writeInt32LE(opCode, 12);
  return Buffer.concat([header, payload]);
}
