import type { ErrorDetail } from '../protocol/errors.js';
import type {
  ClaimResponse,
  DeviceListResponse,
  DevicesChangedEvent,
  KeyAlgorithm,
  OwnDeviceResponse,
  PreKeyCountResponse,
  PreKeyInput,
  RegisterDeviceInput,
  ReplacePreKeysInput,
} from '../protocol/keys.js';
import type { Delivery } from '../realtime/delivery.js';
import { AppError } from '../shared/app-error.js';
import type { DomainEvents } from '../shared/domain-events.js';
import { InFlight } from '../shared/in-flight.js';
import type { Logger } from '../shared/logger.js';
import type { RateLimit } from '../shared/rate-limit.js';
import type { DeviceKeysRecord, DeviceKeysRepository, PreKeyRecord, UsersRepository } from '../storage/ports.js';
import { presentBundle, presentDevice, presentOwnDevice } from './key-presenter.js';
import { isIdentityKey, verifyKeySignature } from './signatures.js';

/** The signed-in device asking: a session of a user. */
export interface DeviceActor {
  userId: string;
  sessionId: string;
}

export interface KeysServiceDeps {
  keys: DeviceKeysRepository;
  users: Pick<UsersRepository, 'findById'>;
  delivery: Delivery;
  events: DomainEvents;
  logger: Logger;
  /** Registrations, prekey replacements and uploads per user. */
  uploads: RateLimit;
  /** Device lists and claims per user. */
  claims: RateLimit;
  oneTimePreKeysMax: number;
  preKeysLowThreshold: number;
  now?: () => Date;
}

const noDevice = () => new AppError('NOT_FOUND', 'This session has no E2EE device; register one with PUT /api/keys/device');

/**
 * The E2EE key directory. It holds public keys only and checks what it can without secrets: the shape
 * of every key and the identity key's signature over each signed prekey. Each one-time prekey goes to
 * one claimer; the owner's device hears when it runs low, and everyone who shares a conversation with
 * the owner hears when the owner's devices change. A session that ends takes its device with it.
 */
export class KeysService {
  private readonly now: () => Date;
  private readonly removals = new InFlight();

  constructor(private readonly deps: KeysServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    // Every process hears revocations (the account-events feed relays them); the first to delete tells.
    deps.events.on('sessionsRevoked', ({ sessionIds }) => this.removals.track(this.removeSessions(sessionIds)));
  }

  async register(actor: DeviceActor, input: RegisterDeviceInput): Promise<OwnDeviceResponse> {
    await this.deps.uploads.consume(actor.userId);
    const { algorithm, publicKey: identityKey } = input.identityKey;
    const details: ErrorDetail[] = [];
    if (!isIdentityKey(algorithm, identityKey)) details.push({ path: 'body.identityKey.publicKey', message: `is not a ${algorithm} public key` });
    details.push(...this.signatureProblems(algorithm, identityKey, input));
    input.oneTimePreKeys?.forEach((key, index) => details.push(...this.oneTimeProblem(algorithm, identityKey, key, `body.oneTimePreKeys.${index}`)));
    if (details.length > 0) throw invalidKeys(details);
    const result = await this.deps.keys.register(
      {
        userId: actor.userId,
        sessionId: actor.sessionId,
        deviceId: input.deviceId,
        registrationId: input.registrationId ?? null,
        identityAlgorithm: algorithm,
        identityKey,
        signedPreKey: input.signedPreKey,
        kyberPreKey: input.kyberPreKey ?? null,
        lastResortPreKey: input.lastResortPreKey ?? null,
        updatedAt: this.now(),
      },
      (input.oneTimePreKeys ?? []).map(toPreKey),
      this.deps.oneTimePreKeysMax,
    );
    if (result.outcome === 'sessionEnded') throw new AppError('UNAUTHORIZED', 'This session has ended; sign in again');
    if (result.outcome === 'deviceIdTaken') {
      throw new AppError('INVALID_STATE', 'Another of your sessions has this deviceId', { details: [{ path: 'body.deviceId', message: 'is taken by another session of yours' }] });
    }
    if (result.outcome === 'full') throw this.full(result.count);
    const { device, previous } = result;
    if (!previous) this.tellChange(device, 'added');
    else if (previous.deviceId !== device.deviceId) {
      this.tellChange(previous, 'removed');
      this.tellChange(device, 'added');
    } else if (!Buffer.from(previous.identityKey).equals(Buffer.from(device.identityKey))) this.tellChange(device, 'identityChanged');
    return { device: presentOwnDevice(device, result.oneTimePreKeyCount) };
  }

  async ownDevice(actor: DeviceActor): Promise<OwnDeviceResponse> {
    const device = await this.deps.keys.findBySession(actor.sessionId);
    if (!device) throw noDevice();
    return { device: presentOwnDevice(device, await this.deps.keys.countOneTimePreKeys(actor.sessionId)) };
  }

  async replacePreKeys(actor: DeviceActor, input: ReplacePreKeysInput): Promise<OwnDeviceResponse> {
    await this.deps.uploads.consume(actor.userId);
    const current = await this.deps.keys.findBySession(actor.sessionId);
    if (!current) throw noDevice();
    const details = this.signatureProblems(current.identityAlgorithm, current.identityKey, input);
    if (details.length > 0) throw invalidKeys(details);
    const device = await this.deps.keys.replacePreKeys(actor.sessionId, { ...input, at: this.now() });
    if (!device) throw noDevice();
    return { device: presentOwnDevice(device, await this.deps.keys.countOneTimePreKeys(actor.sessionId)) };
  }

  async uploadPreKeys(actor: DeviceActor, keys: readonly PreKeyInput[]): Promise<PreKeyCountResponse> {
    await this.deps.uploads.consume(actor.userId);
    const device = await this.deps.keys.findBySession(actor.sessionId);
    if (!device) throw noDevice();
    const details = keys.flatMap((key, index) => this.oneTimeProblem(device.identityAlgorithm, device.identityKey, key, `body.oneTimePreKeys.${index}`));
    if (details.length > 0) throw invalidKeys(details);
    const result = await this.deps.keys.addOneTimePreKeys(actor.sessionId, keys.map(toPreKey), this.deps.oneTimePreKeysMax);
    if (result.outcome === 'noDevice') throw noDevice();
    if (result.outcome === 'full') throw this.full(result.count);
    return { oneTimePreKeyCount: result.count };
  }

  async unregister(actor: DeviceActor): Promise<void> {
    const [device] = await this.deps.keys.removeBySessions([actor.sessionId]);
    if (!device) throw noDevice();
    this.tellChange(device, 'removed');
  }

  async devicesOf(callerId: string, userId: string): Promise<DeviceListResponse> {
    await this.deps.claims.consume(callerId);
    await this.checkUser(userId);
    return { devices: (await this.deps.keys.listForUser(userId, this.now())).map(presentDevice) };
  }

  /** One bundle per device of the user (the caller's own device left out), each with a one-time prekey of its own. */
  async claim(actor: DeviceActor, userId: string, deviceIds: readonly string[] | undefined): Promise<ClaimResponse> {
    await this.deps.claims.consume(actor.userId);
    await this.checkUser(userId);
    const bundles = await this.deps.keys.claim(userId, { deviceIds, exceptSessionId: actor.sessionId, now: this.now() });
    const threshold = this.deps.preKeysLowThreshold;
    for (const { device, remaining } of bundles) {
      if (remaining < threshold) this.deps.delivery.toSessions([device.sessionId], 'E2EE_PREKEYS_LOW', { deviceId: device.deviceId, remaining, threshold });
    }
    return { bundles: bundles.map(presentBundle) };
  }

  /** Waits (bounded) for the removals of revoked sessions' devices under way. */
  stop(timeoutMs: number): Promise<void> {
    return this.removals.drain(timeoutMs);
  }

  private async removeSessions(sessionIds: readonly string[]): Promise<void> {
    try {
      for (const device of await this.deps.keys.removeBySessions(sessionIds)) this.tellChange(device, 'removed');
    } catch (error) {
      this.deps.logger.error({ err: error, sessionIds }, 'removing the E2EE devices of revoked sessions failed');
    }
  }

  private async checkUser(userId: string): Promise<void> {
    if ((await this.deps.users.findById(userId))?.status !== 'active') throw new AppError('NOT_FOUND', 'No such user');
  }

  /** To the owner's devices and everyone who shares a conversation with the owner. */
  private tellChange(device: DeviceKeysRecord, change: DevicesChangedEvent['change']): void {
    const payload: DevicesChangedEvent = { userId: device.userId, deviceId: device.deviceId, change };
    this.removals.track(
      this.deps.keys.audienceOf(device.userId).then(
        (audience) => this.deps.delivery.toUsers([device.userId, ...audience], 'E2EE_DEVICES_CHANGED', payload),
        (error: unknown) => this.deps.logger.error({ err: error, userId: device.userId }, 'telling of a device change failed'),
      ),
    );
  }

  private signatureProblems(algorithm: KeyAlgorithm, identityKey: Uint8Array, input: Partial<Pick<RegisterDeviceInput, 'signedPreKey' | 'kyberPreKey' | 'lastResortPreKey'>>): ErrorDetail[] {
    return (['signedPreKey', 'kyberPreKey', 'lastResortPreKey'] as const).flatMap((field) => {
      const key = input[field];
      return key && !verifyKeySignature(algorithm, identityKey, key.publicKey, key.signature) ? [badSignature(`body.${field}.signature`)] : [];
    });
  }

  private oneTimeProblem(algorithm: KeyAlgorithm, identityKey: Uint8Array, key: PreKeyInput, path: string): ErrorDetail[] {
    return key.signature && !verifyKeySignature(algorithm, identityKey, key.publicKey, key.signature) ? [badSignature(`${path}.signature`)] : [];
  }

  private full(count: number): AppError {
    const max = this.deps.oneTimePreKeysMax;
    return new AppError('INVALID_STATE', `A device holds at most ${max} one-time prekeys; this one has ${count}`, {
      details: [{ path: 'body.oneTimePreKeys', message: `at most ${max - count} more fit` }],
    });
  }
}

const toPreKey = (key: PreKeyInput): PreKeyRecord => ({ keyId: key.keyId, publicKey: key.publicKey, signature: key.signature ?? null });

const badSignature = (path: string): ErrorDetail => ({ path, message: "is not the identity key's signature over publicKey" });

const invalidKeys = (details: ErrorDetail[]) => new AppError('VALIDATION_FAILED', 'Some keys are not what they claim to be', { details });
