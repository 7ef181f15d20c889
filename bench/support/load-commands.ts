/** What the benchmark asks of a load-client process, and what a chat run answers. */

/** A socket of the load client (its index there) and where it sends: a user or a group. */
export interface Sender {
  socket: number;
  target: { to: string } | { conversationId: string };
}

export type Command =
  | { type: 'connect'; url: string; auths: Record<string, unknown>[]; concurrency: number }
  | { type: 'disconnect' }
  | {
      type: 'send';
      tag: string;
      senders: Sender[];
      /** Sockets of this process each message must reach. */
      receivers: number;
      /** Unacknowledged messages per sender (saturation), or a fixed rate per sender. */
      window?: number;
      ratePerSender?: number;
      warmupMs: number;
      measureMs: number;
      drainMs: number;
    }
  | { type: 'calls'; pairs: { caller: number; callee: number; calleeId: string }[]; rounds: number; offer: { type: string; sdp: string } }
  | { type: 'logins'; url: string; email: string; password: string; concurrency: number; durationMs: number }
  | { type: 'gets'; url: string; token: string; count: number };

export interface SendResult {
  /** Messages sent after the warm-up. */
  sent: number;
  /** Messages sent in every phase, the warm-up included. */
  sentInAll: number;
  /** Messages (of any phase) acknowledged and received everywhere within the measured window. */
  completedInWindow: number;
  /** Messages sent after the warm-up that were acknowledged and received everywhere at all. */
  completed: number;
  failures: number;
  duplicates: number;
  sendToLastReceiptMs: number[];
  sendToAckMs: number[];
}
