import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { Logger } from '../../shared/logger.js';
import { SfuError } from './sfu-error.js';
import type { SfuLostReason } from './sfu-rooms.js';

/** A JSEP description as Janus carries it (`{ type, sdp }`, plus flags of its own we do not use). */
const jsepSchema = z.object({ type: z.enum(['offer', 'answer']), sdp: z.string() });
export type Jsep = z.output<typeof jsepSchema>;

/** Every message of Janus's JSON API (responses and events): only the fields this client reads. */
const janusMessage = z.looseObject({
  janus: z.string(),
  transaction: z.string().optional(),
  sender: z.number().optional(),
  data: z.looseObject({ id: z.number() }).optional(),
  plugindata: z.object({ plugin: z.string(), data: z.record(z.string(), z.unknown()) }).optional(),
  jsep: jsepSchema.optional(),
  error: z.object({ code: z.number(), reason: z.string() }).optional(),
});
type JanusMessage = z.output<typeof janusMessage>;
const pollAnswer = z.union([z.array(janusMessage), janusMessage]);

/** Janus's "no such session": it restarted, or timed our session out. */
const NO_SUCH_SESSION = 458;


/** A plugin's reply: its `plugindata.data` and, for negotiations, Janus's description. */
export interface PluginReply {
  data: Record<string, unknown>;
  jsep: Jsep | undefined;
}

/** An event for one handle that answers no request of ours. */
export interface HandleEvent {
  /** `event` (the plugin's), `webrtcup`, `hangup`, `media`, `slowlink`, `detached`. */
  janus: string;
  data: Record<string, unknown> | undefined;
  jsep: Jsep | undefined;
}

export interface JanusSessionOptions {
  /** The HTTP transport's base URL, e.g. http://127.0.0.1:8088/janus. */
  url: string;
  apiSecret: string | undefined;
  logger: Logger;
  /** Called once if the session ends other than by close() or release(). */
  onLost: (reason: SfuLostReason, session: JanusSession) => void;
  /** Bound on every request, from sending it to its answer (or its event, for asynchronous ones). */
  requestTimeoutMs?: number;
  /**
   * How often the session is kept alive (Janus drops sessions idle for its session_timeout, 60 s by
   * default); a keepalive unanswered within the request timeout counts as Janus unreachable.
   */
  keepaliveMs?: number;
  /** How long Janus may stay unreachable before the session counts as lost. */
  unreachableAfterMs?: number;
}

interface Pending {
  resolve: (reply: PluginReply) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** Janus's long poll answers within 30 s when there is nothing to tell; this is the margin beyond. */
const LONG_POLL_MARGIN_MS = 10_000;
const POLL_RETRY_MS = 250;
const MAX_EVENTS_PER_POLL = 20;

/**
 * One session with Janus over its HTTP transport: requests are POSTs that Janus answers at once
 * (`success`, `error`) or acknowledges (`ack`) and answers later with an event carrying the same
 * transaction; events come back through a long poll (GET on the session). The session is kept alive
 * every `keepaliveMs`, and reported lost when Janus says it no longer knows it (a restart), when it
 * times it out, when the long poll cannot reach it for `unreachableAfterMs`, or when a keepalive goes
 * unanswered (a hung Janus).
 */
export class JanusSession {
  private readonly pending = new Map<string, Pending>();
  private readonly handles = new Map<number, (event: HandleEvent) => void>();
  private readonly keepalive: NodeJS.Timeout;
  private readonly stopPolling = new AbortController();
  private readonly requestTimeoutMs: number;
  private readonly unreachableAfterMs: number;
  private lastContact = Date.now();
  private ended = false;

  private constructor(
    private readonly options: JanusSessionOptions,
    readonly id: number,
  ) {
    this.requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
    this.unreachableAfterMs = options.unreachableAfterMs ?? 5_000;
    this.keepalive = setInterval(() => void this.sendKeepalive(), options.keepaliveMs ?? 15_000);
    this.keepalive.unref();
    void this.poll();
  }

  /** Creates a session; rejects with SfuError `unavailable` if Janus does not answer. */
  static async open(options: JanusSessionOptions): Promise<JanusSession> {
    const timeoutMs = options.requestTimeoutMs ?? 10_000;
    const reply = await post(options.url, withSecret({ janus: 'create', transaction: randomUUID() }, options.apiSecret), timeoutMs);
    if (reply.janus !== 'success' || !reply.data) throw refusal(reply);
    return new JanusSession(options, reply.data.id);
  }

  /**
   * Takes over a session another process opened and released (see release()): claims it, so Janus
   * sends its events to this transport connection's long polls (without the claim they go nowhere),
   * then polls it and keeps it alive from here.
   */
  static async resume(options: JanusSessionOptions, id: number): Promise<JanusSession> {
    const reply = await post(`${options.url}/${id}`, withSecret({ janus: 'claim', transaction: randomUUID() }, options.apiSecret), options.requestTimeoutMs ?? 10_000);
    if (reply.janus !== 'success') throw refusal(reply);
    return new JanusSession(options, id);
  }

  get isOpen(): boolean {
    return !this.ended;
  }

  /** Attaches a handle to `plugin`; its unsolicited events go to `onEvent`. */
  async attach(plugin: string, onEvent: (event: HandleEvent) => void): Promise<JanusHandle> {
    const reply = await this.request(`${this.options.url}/${this.id}`, { janus: 'attach', plugin });
    if (reply.janus !== 'success' || !reply.data) throw refusal(reply);
    this.handles.set(reply.data.id, onEvent);
    return new JanusHandle(this, reply.data.id);
  }

  /** A handle attached earlier, by whichever process held the session then; its unsolicited events go to `onEvent`. */
  handle(id: number, onEvent: (event: HandleEvent) => void): JanusHandle {
    this.handles.set(id, onEvent);
    return new JanusHandle(this, id);
  }

  /**
   * Stops polling and keeping the session alive, and leaves it open on Janus for another process to
   * resume (within Janus's session timeout); pending requests fail as `unavailable`.
   */
  release(): void {
    this.end();
  }

  /** Ends the session on Janus (best effort) and stops polling; pending requests fail as `unavailable`. */
  async close(): Promise<void> {
    if (this.ended) return;
    const url = `${this.options.url}/${this.id}`;
    this.end();
    await post(url, withSecret({ janus: 'destroy', transaction: randomUUID() }, this.options.apiSecret), this.requestTimeoutMs).catch(() => undefined);
  }

  /** @internal A plugin message, with its answer: the immediate `success` or the event that follows an `ack`. */
  async message(handleId: number, body: Record<string, unknown>, jsep?: Jsep): Promise<PluginReply> {
    const transaction = randomUUID();
    const evented = new Promise<PluginReply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(transaction);
        reject(new SfuError('unavailable', { reason: `no event for ${String(body['request'])} within ${this.requestTimeoutMs} ms` }));
      }, this.requestTimeoutMs);
      this.pending.set(transaction, { resolve, reject, timer });
    });
    evented.catch(() => undefined);
    let reply: JanusMessage;
    try {
      reply = await this.request(`${this.options.url}/${this.id}/${handleId}`, { janus: 'message', body, ...(jsep ? { jsep } : {}) }, transaction);
    } catch (error) {
      this.settle(transaction)?.reject(error as Error);
      throw error;
    }
    if (reply.janus === 'ack') return evented;
    this.settle(transaction);
    if (reply.janus === 'success' && reply.plugindata) return checkPlugin({ data: reply.plugindata.data, jsep: reply.jsep });
    throw refusal(reply);
  }

  /** @internal A request on a handle answered by `ack` or `success` (trickle, detach). */
  async handleRequest(handleId: number, body: Record<string, unknown>): Promise<void> {
    const reply = await this.request(`${this.options.url}/${this.id}/${handleId}`, body);
    if (reply.janus !== 'ack' && reply.janus !== 'success') throw refusal(reply);
    if (body['janus'] === 'detach') this.handles.delete(handleId);
  }

  private async request(url: string, body: Record<string, unknown>, transaction: string = randomUUID()): Promise<JanusMessage> {
    if (this.ended) throw new SfuError('unavailable', { reason: 'session closed' });
    const reply = await post(url, withSecret({ ...body, transaction }, this.options.apiSecret), this.requestTimeoutMs);
    this.lastContact = Date.now();
    if (reply.error?.code === NO_SUCH_SESSION) this.lose('restarted');
    return reply;
  }

  private settle(transaction: string): Pending | undefined {
    const pending = this.pending.get(transaction);
    if (!pending) return undefined;
    clearTimeout(pending.timer);
    this.pending.delete(transaction);
    return pending;
  }

  private async sendKeepalive(): Promise<void> {
    try {
      await this.request(`${this.options.url}/${this.id}`, { janus: 'keepalive' });
    } catch {
      // A hung Janus (connections accepted, nothing answered) leaves the long poll waiting: this notices it.
      if (!this.ended && Date.now() - this.lastContact > this.unreachableAfterMs) this.lose('unreachable');
    }
  }

  private async poll(): Promise<void> {
    const secret = this.options.apiSecret ? `&apisecret=${encodeURIComponent(this.options.apiSecret)}` : '';
    while (!this.ended) {
      let messages: JanusMessage[];
      try {
        const url = `${this.options.url}/${this.id}?maxev=${MAX_EVENTS_PER_POLL}&rid=${Date.now()}${secret}`;
        const response = await fetch(url, { signal: AbortSignal.any([this.stopPolling.signal, AbortSignal.timeout(30_000 + LONG_POLL_MARGIN_MS)]) });
        // The HTTP transport answers a poll on a session Janus does not know with a bare 404.
        if (response.status === 404) return this.lose('restarted');
        const parsed = pollAnswer.parse(await response.json());
        messages = Array.isArray(parsed) ? parsed : [parsed];
        this.lastContact = Date.now();
      } catch (error) {
        if (this.ended) return;
        if (Date.now() - this.lastContact > this.unreachableAfterMs) {
          this.options.logger.warn({ err: error, session: this.id }, 'janus unreachable');
          this.lose('unreachable');
          return;
        }
        await sleep(POLL_RETRY_MS);
        continue;
      }
      for (const message of messages) this.dispatch(message);
    }
  }

  private dispatch(message: JanusMessage): void {
    if (message.janus === 'keepalive') return;
    if (message.janus === 'error' && message.error?.code === NO_SUCH_SESSION) return this.lose('restarted');
    if (message.janus === 'timeout') return this.lose('expired');
    const pending = message.transaction ? this.settle(message.transaction) : undefined;
    if (pending) {
      if (message.janus === 'event' && message.plugindata) {
        try {
          pending.resolve(checkPlugin({ data: message.plugindata.data, jsep: message.jsep }));
        } catch (error) {
          pending.reject(error as Error);
        }
      } else pending.reject(refusal(message));
      return;
    }
    const onEvent = message.sender === undefined ? undefined : this.handles.get(message.sender);
    if (!onEvent) return;
    if (message.janus === 'detached') this.handles.delete(message.sender!);
    onEvent({ janus: message.janus, data: message.plugindata?.data, jsep: message.jsep });
  }

  private lose(reason: SfuLostReason): void {
    if (this.ended) return;
    this.options.logger.warn({ session: this.id, reason }, 'janus session lost');
    this.end();
    this.options.onLost(reason, this);
  }

  private end(): void {
    this.ended = true;
    clearInterval(this.keepalive);
    this.stopPolling.abort();
    for (const transaction of [...this.pending.keys()]) {
      this.settle(transaction)?.reject(new SfuError('unavailable', { reason: 'session ended' }));
    }
    this.handles.clear();
  }
}

/** One plugin handle of a session. */
export class JanusHandle {
  constructor(
    private readonly session: JanusSession,
    readonly id: number,
  ) {}

  /** A plugin request, answered by the plugin's reply; a plugin error is an SfuError `refused`. */
  message(body: Record<string, unknown>, jsep?: Jsep): Promise<PluginReply> {
    return this.session.message(this.id, body, jsep);
  }

  /** Trickles one candidate to Janus; `null` tells it the candidates are complete. */
  trickle(candidate: { candidate: string; sdpMid?: string | null | undefined; sdpMLineIndex?: number | null | undefined } | null): Promise<void> {
    return this.session.handleRequest(this.id, { janus: 'trickle', candidate: candidate ?? { completed: true } });
  }

  /** Detaches the handle: Janus hangs up its PeerConnection and the plugin forgets the participant. */
  detach(): Promise<void> {
    return this.session.handleRequest(this.id, { janus: 'detach' });
  }
}

function withSecret(body: Record<string, unknown>, apiSecret: string | undefined): Record<string, unknown> {
  return apiSecret ? { ...body, apisecret: apiSecret } : body;
}

async function post(url: string, body: Record<string, unknown>, timeoutMs: number): Promise<JanusMessage> {
  try {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return janusMessage.parse(await response.json());
  } catch (error) {
    throw new SfuError('unavailable', { reason: (error as Error).message });
  }
}

function refusal(message: JanusMessage): SfuError {
  const error = message.error ?? { code: undefined, reason: `unexpected ${message.janus}` };
  return new SfuError(error.code === NO_SUCH_SESSION ? 'unavailable' : 'refused', error);
}

/** Plugins answer errors inside plugindata (`error_code`, `error`) rather than as Janus errors. */
function checkPlugin(reply: PluginReply): PluginReply {
  const code = reply.data['error_code'];
  if (typeof code === 'number') throw new SfuError('refused', { code, reason: String(reply.data['error'] ?? 'plugin error') });
  return reply;
}
