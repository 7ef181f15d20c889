import type { ToDeviceMessageDto, ToDevicePendingResponse, ToDeviceSendInput, ToDeviceSendResponse } from '../protocol/keys.js';
import type { Delivery } from '../realtime/delivery.js';
import { AppError } from '../shared/app-error.js';
import { newId } from '../shared/ids.js';
import type { RateLimit } from '../shared/rate-limit.js';
import type { DeviceKeysRepository, ToDeviceMessageRecord } from '../storage/ports.js';
import type { DeviceActor } from './keys-service.js';

export interface ToDeviceServiceDeps {
  keys: DeviceKeysRepository;
  delivery: Delivery;
  /** Send requests per user. */
  sends: RateLimit;
  maxPending: number;
  now?: () => Date;
}

const present = (message: ToDeviceMessageRecord): ToDeviceMessageDto => ({
  id: message.id,
  from: message.senderId,
  fromDeviceId: message.senderDeviceId,
  type: message.type,
  body: message.body,
  createdAt: message.createdAt.toISOString(),
});

/**
 * Messages from one E2EE device to others (key shares, such as sender keys encrypted for each member's
 * device): stored per recipient device before the sender's answer, pushed to its session at once, and
 * kept until that device acknowledges them, so each one reaches it however often it reconnects.
 */
export class ToDeviceService {
  private readonly now: () => Date;

  constructor(private readonly deps: ToDeviceServiceDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  async send(actor: DeviceActor, messages: readonly ToDeviceSendInput[]): Promise<ToDeviceSendResponse> {
    await this.deps.sends.consume(actor.userId);
    const sender = await this.deps.keys.findBySession(actor.sessionId);
    if (!sender) throw new AppError('NOT_FOUND', 'This session has no E2EE device; register one with PUT /api/keys/device');
    const createdAt = this.now();
    const records = messages.map((message) => ({ ...message, id: newId(), senderId: actor.userId, senderDeviceId: sender.deviceId, createdAt }));
    const outcomes = await this.deps.keys.queueToDevice(records, this.deps.maxPending, createdAt);
    return {
      results: outcomes.map((outcome, index) => {
        if (outcome.outcome !== 'queued') return { queued: false, reason: outcome.outcome };
        const record = records[index]!;
        this.deps.delivery.toSessions([outcome.sessionId], 'E2EE_TO_DEVICE', { message: present(record) });
        return { queued: true, id: record.id };
      }),
    };
  }

  async pending(actor: DeviceActor, limit: number): Promise<ToDevicePendingResponse> {
    return { messages: (await this.deps.keys.pendingToDevice(actor.sessionId, limit)).map(present) };
  }

  async acknowledge(actor: DeviceActor, ids: readonly string[]): Promise<{ removed: number }> {
    return { removed: await this.deps.keys.acknowledgeToDevice(actor.sessionId, ids) };
  }
}
