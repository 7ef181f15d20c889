import * as Signal from '@signalapp/libsignal-client';
import type { PreKeyBundleDto } from '../../src/protocol/keys.js';

const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64');
const fromB64 = (text: string) => new Uint8Array(Buffer.from(text, 'base64'));

const addressKey = (address: Signal.ProtocolAddress) => `${address.name()}.${address.deviceId()}`;

/** One app's libsignal state, kept in memory: the stores libsignal asks for, as a client keeps them. */
class Stores {
  readonly sessions = new Map<string, Signal.SessionRecord>();
  readonly identities = new Map<string, Signal.PublicKey>();
  readonly preKeys = new Map<number, Signal.PreKeyRecord>();
  readonly signedPreKeys = new Map<number, Signal.SignedPreKeyRecord>();
  readonly kyberPreKeys = new Map<number, Signal.KyberPreKeyRecord>();
  readonly senderKeys = new Map<string, Signal.SenderKeyRecord>();

  constructor(
    readonly identity: Signal.IdentityKeyPair,
    readonly registrationId: number,
  ) {}

  sessionStore(): Signal.SessionStore {
    const { sessions } = this;
    return new (class extends Signal.SessionStore {
      async saveSession(name: Signal.ProtocolAddress, record: Signal.SessionRecord) {
        sessions.set(addressKey(name), record);
      }
      async getSession(name: Signal.ProtocolAddress) {
        return sessions.get(addressKey(name)) ?? null;
      }
      async getExistingSessions(addresses: Signal.ProtocolAddress[]) {
        return addresses.map((address) => sessions.get(addressKey(address))!);
      }
    })();
  }

  identityStore(): Signal.IdentityKeyStore {
    const stores = this;
    return new (class extends Signal.IdentityKeyStore {
      async getIdentityKey() {
        return stores.identity.privateKey;
      }
      async getLocalRegistrationId() {
        return stores.registrationId;
      }
      async saveIdentity(name: Signal.ProtocolAddress, key: Signal.PublicKey) {
        const previous = stores.identities.get(addressKey(name));
        stores.identities.set(addressKey(name), key);
        return previous && !previous.equals(key) ? Signal.IdentityChange.ReplacedExisting : Signal.IdentityChange.NewOrUnchanged;
      }
      async isTrustedIdentity() {
        return true;
      }
      async getIdentity(name: Signal.ProtocolAddress) {
        return stores.identities.get(addressKey(name)) ?? null;
      }
    })();
  }

  preKeyStore(): Signal.PreKeyStore {
    const { preKeys } = this;
    return new (class extends Signal.PreKeyStore {
      async savePreKey(id: number, record: Signal.PreKeyRecord) {
        preKeys.set(id, record);
      }
      async getPreKey(id: number) {
        const record = preKeys.get(id);
        if (!record) throw new Error(`no prekey ${id}`);
        return record;
      }
      async removePreKey(id: number) {
        preKeys.delete(id);
      }
    })();
  }

  signedPreKeyStore(): Signal.SignedPreKeyStore {
    const { signedPreKeys } = this;
    return new (class extends Signal.SignedPreKeyStore {
      async saveSignedPreKey(id: number, record: Signal.SignedPreKeyRecord) {
        signedPreKeys.set(id, record);
      }
      async getSignedPreKey(id: number) {
        return signedPreKeys.get(id)!;
      }
    })();
  }

  kyberPreKeyStore(): Signal.KyberPreKeyStore {
    const { kyberPreKeys } = this;
    return new (class extends Signal.KyberPreKeyStore {
      async saveKyberPreKey(id: number, record: Signal.KyberPreKeyRecord) {
        kyberPreKeys.set(id, record);
      }
      async getKyberPreKey(id: number) {
        return kyberPreKeys.get(id)!;
      }
      async markKyberPreKeyUsed() {}
    })();
  }

  senderKeyStore(): Signal.SenderKeyStore {
    const { senderKeys } = this;
    const key = (sender: Signal.ProtocolAddress, distributionId: string) => `${addressKey(sender)} ${distributionId}`;
    return new (class extends Signal.SenderKeyStore {
      async saveSenderKey(sender: Signal.ProtocolAddress, distributionId: string, record: Signal.SenderKeyRecord) {
        senderKeys.set(key(sender, distributionId), record);
      }
      async getSenderKey(sender: Signal.ProtocolAddress, distributionId: string) {
        return senderKeys.get(key(sender, distributionId)) ?? null;
      }
    })();
  }
}

/** A ciphertext as it travels through the server: libsignal's message type and its bytes in base64. */
export interface WireCiphertext {
  type: number;
  body: string;
}

/**
 * A Signal-protocol device made with the real libsignal: its keys, in the shapes the key directory
 * takes, and encryption and decryption against the bundles the directory hands out.
 */
export class SignalDevice {
  readonly address: Signal.ProtocolAddress;
  private readonly stores: Stores;
  private nextPreKeyId = 1;

  constructor(
    readonly userId: string,
    readonly deviceId: number,
    identity = Signal.IdentityKeyPair.generate(),
  ) {
    this.address = Signal.ProtocolAddress.new(userId, deviceId);
    this.stores = new Stores(identity, 1 + Math.floor(Math.random() * 16000));
  }

  get identityKey(): string {
    return b64(this.stores.identity.publicKey.serialize());
  }

  sign(message: Uint8Array): Uint8Array {
    return this.stores.identity.privateKey.sign(new Uint8Array(message));
  }

  /** The body of PUT /api/keys/device: identity, a signed prekey, a Kyber last-resort prekey and `oneTime` one-time prekeys. */
  registration(oneTime: number) {
    const { identity } = this.stores;
    const signed = Signal.PrivateKey.generate();
    const signedPublic = signed.getPublicKey().serialize();
    const signedId = this.stores.signedPreKeys.size + 1;
    const signature = identity.privateKey.sign(signedPublic);
    this.stores.signedPreKeys.set(signedId, Signal.SignedPreKeyRecord.new(signedId, Date.now(), signed.getPublicKey(), signed, signature));
    const kyber = Signal.KEMKeyPair.generate();
    const kyberId = this.stores.kyberPreKeys.size + 1;
    const kyberSignature = identity.privateKey.sign(kyber.getPublicKey().serialize());
    this.stores.kyberPreKeys.set(kyberId, Signal.KyberPreKeyRecord.new(kyberId, Date.now(), kyber, kyberSignature));
    return {
      deviceId: String(this.deviceId),
      registrationId: this.stores.registrationId,
      identityKey: { algorithm: 'xeddsa', publicKey: this.identityKey },
      signedPreKey: { keyId: signedId, publicKey: b64(signedPublic), signature: b64(signature) },
      kyberPreKey: { keyId: kyberId, publicKey: b64(kyber.getPublicKey().serialize()), signature: b64(kyberSignature) },
      oneTimePreKeys: this.oneTimePreKeys(oneTime),
    };
  }

  /** Fresh one-time prekeys (the private halves kept here), as uploaded. */
  oneTimePreKeys(count: number): { keyId: number; publicKey: string }[] {
    return Array.from({ length: count }, () => {
      const id = this.nextPreKeyId++;
      const key = Signal.PrivateKey.generate();
      this.stores.preKeys.set(id, Signal.PreKeyRecord.new(id, key.getPublicKey(), key));
      return { keyId: id, publicKey: b64(key.getPublicKey().serialize()) };
    });
  }

  /** Starts a session with the device a claimed bundle describes (X3DH/PQXDH). */
  async startSession(bundle: PreKeyBundleDto): Promise<Signal.ProtocolAddress> {
    const address = Signal.ProtocolAddress.new(bundle.userId, Number(bundle.deviceId));
    const oneTime = bundle.oneTimePreKey && !bundle.oneTimePreKey.lastResort ? bundle.oneTimePreKey : null;
    const kyber = bundle.kyberPreKey!;
    const prekeyBundle = Signal.PreKeyBundle.new(
      bundle.registrationId!,
      Number(bundle.deviceId),
      oneTime?.keyId ?? null,
      oneTime ? Signal.PublicKey.deserialize(fromB64(oneTime.publicKey)) : null,
      bundle.signedPreKey.keyId,
      Signal.PublicKey.deserialize(fromB64(bundle.signedPreKey.publicKey)),
      fromB64(bundle.signedPreKey.signature),
      Signal.PublicKey.deserialize(fromB64(bundle.identityKey.publicKey)),
      kyber.keyId,
      Signal.KEMPublicKey.deserialize(fromB64(kyber.publicKey)),
      fromB64(kyber.signature),
    );
    await Signal.processPreKeyBundle(prekeyBundle, address, this.address, this.stores.sessionStore(), this.stores.identityStore());
    return address;
  }

  hasSession(userId: string, deviceId: string): boolean {
    return this.stores.sessions.has(`${userId}.${deviceId}`);
  }

  async encrypt(to: Signal.ProtocolAddress, plaintext: Uint8Array): Promise<WireCiphertext> {
    const message = await Signal.signalEncrypt(new Uint8Array(plaintext), to, this.address, this.stores.sessionStore(), this.stores.identityStore());
    return { type: message.type(), body: b64(message.serialize()) };
  }

  async decrypt(fromUserId: string, fromDeviceId: string, ciphertext: WireCiphertext): Promise<Uint8Array> {
    const from = Signal.ProtocolAddress.new(fromUserId, Number(fromDeviceId));
    const bytes = fromB64(ciphertext.body);
    const { stores } = this;
    if (ciphertext.type === Signal.CiphertextMessageType.PreKey) {
      return Signal.signalDecryptPreKey(
        Signal.PreKeySignalMessage.deserialize(bytes),
        from,
        this.address,
        stores.sessionStore(),
        stores.identityStore(),
        stores.preKeyStore(),
        stores.signedPreKeyStore(),
        stores.kyberPreKeyStore(),
      );
    }
    return Signal.signalDecrypt(Signal.SignalMessage.deserialize(bytes), from, this.address, stores.sessionStore(), stores.identityStore());
  }

  /** This device's sender key for a group (a distribution message to hand every member's device). */
  async senderKeyDistribution(distributionId: string): Promise<Uint8Array> {
    const message = await Signal.SenderKeyDistributionMessage.create(this.address, distributionId, this.stores.senderKeyStore());
    return message.serialize();
  }

  async acceptSenderKey(fromUserId: string, fromDeviceId: string, distribution: Uint8Array): Promise<void> {
    const from = Signal.ProtocolAddress.new(fromUserId, Number(fromDeviceId));
    await Signal.processSenderKeyDistributionMessage(from, Signal.SenderKeyDistributionMessage.deserialize(new Uint8Array(distribution)), this.stores.senderKeyStore());
  }

  async groupEncrypt(distributionId: string, plaintext: Uint8Array): Promise<string> {
    const message = await Signal.groupEncrypt(this.address, distributionId, this.stores.senderKeyStore(), new Uint8Array(plaintext));
    return b64(message.serialize());
  }

  async groupDecrypt(fromUserId: string, fromDeviceId: string, ciphertext: string): Promise<Uint8Array> {
    const from = Signal.ProtocolAddress.new(fromUserId, Number(fromDeviceId));
    return Signal.groupDecrypt(from, this.stores.senderKeyStore(), fromB64(ciphertext));
  }
}

/** An elliptic-curve prekey signed by the device's identity, as a last-resort key is uploaded. */
export function signedEcPreKey(device: SignalDevice, keyId: number): { keyId: number; publicKey: string; signature: string } {
  const publicKey = Signal.PrivateKey.generate().getPublicKey().serialize();
  return { keyId, publicKey: b64(publicKey), signature: b64(device.sign(publicKey)) };
}
