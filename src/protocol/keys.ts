import { z } from 'zod';
import { idSchema, pageLimitSchema, timestampSchema, TOO_LARGE_ISSUE, wireIdSchema } from './common.js';

/**
 * The E2EE key directory (docs/api/e2ee.md): each session registers one device with public keys only.
 * Keys travel as standard base64 of the bytes the client library serializes.
 */

/** One-time prekeys one upload may carry; the per-device total is E2EE_ONE_TIME_PREKEYS_MAX. */
export const PREKEYS_PER_UPLOAD = 100;

/** Sizes in bytes. A Kyber-1024 public key is 1568 bytes (1569 with libsignal's type byte). */
export const KEY_BYTES = { ecPublic: { min: 32, max: 33 }, kemPublic: { min: 800, max: 1600 }, signature: 64 } as const;

/**
 * Signature algorithms the server checks a signed prekey's signature with: `xeddsa` (Signal: the identity
 * key is a Curve25519 key, 32 bytes or 33 with libsignal's 0x05 type byte) and `ed25519` (32 bytes).
 */
export const KEY_ALGORITHMS = ['xeddsa', 'ed25519'] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

const keyBytes = (min: number, max: number) => {
  const encodedMax = Math.ceil(max / 3) * 4;
  return z
    .string()
    .refine((text) => text.length <= encodedMax, { message: `must be at most ${max} bytes`, params: TOO_LARGE_ISSUE })
    .pipe(z.base64('must be standard base64'))
    .transform((text) => new Uint8Array(Buffer.from(text, 'base64')))
    .refine((bytes) => bytes.length >= min && bytes.length <= max, min === max ? `must be ${min} bytes` : `must be ${min}-${max} bytes`);
};

/** A client's name for its device, unique per user: Signal's device numbers as text, Matrix's device ids. */
export const deviceIdSchema = z.string().regex(/^[\w.:-]{1,64}$/, 'must be 1-64 letters, digits or . _ : -');

const keyId = z.int('must be an integer').min(0).max(0x7fffffff);

const signedKey = (publicKey: ReturnType<typeof keyBytes>) =>
  z.object({ keyId, publicKey, signature: keyBytes(KEY_BYTES.signature, KEY_BYTES.signature) });

const signedPreKey = signedKey(keyBytes(KEY_BYTES.ecPublic.min, KEY_BYTES.ecPublic.max));
const kyberPreKey = signedKey(keyBytes(KEY_BYTES.kemPublic.min, KEY_BYTES.kemPublic.max));

/** A one-time prekey: Signal's are unsigned, Matrix's signed (then the server checks the signature too). */
const oneTimePreKey = z.object({
  keyId,
  publicKey: keyBytes(KEY_BYTES.ecPublic.min, KEY_BYTES.ecPublic.max),
  signature: keyBytes(KEY_BYTES.signature, KEY_BYTES.signature).optional(),
});

const oneTimePreKeys = z
  .array(oneTimePreKey)
  .refine((keys) => keys.length <= PREKEYS_PER_UPLOAD, { message: `at most ${PREKEYS_PER_UPLOAD} keys per upload`, params: TOO_LARGE_ISSUE })
  .refine((keys) => new Set(keys.map((key) => key.keyId)).size === keys.length, 'keyIds must be distinct');

export const registerDeviceBody = z.object({
  deviceId: deviceIdSchema,
  /** Signal's registration id; other libraries leave it out. */
  registrationId: z.int('must be an integer').min(1).max(0x7fffffff).optional(),
  identityKey: z.object({
    algorithm: z.enum(KEY_ALGORITHMS, `must be one of ${KEY_ALGORITHMS.join(', ')}`),
    publicKey: keyBytes(KEY_BYTES.ecPublic.min, KEY_BYTES.ecPublic.max),
  }),
  signedPreKey,
  /** The post-quantum (Kyber) last-resort prekey, as Signal's PQXDH uses. */
  kyberPreKey: kyberPreKey.optional(),
  /** An elliptic-curve prekey handed out, flagged `lastResort`, once the one-time prekeys run out. */
  lastResortPreKey: signedPreKey.optional(),
  oneTimePreKeys: oneTimePreKeys.optional(),
});

export const replacePreKeysBody = z
  .object({ signedPreKey: signedPreKey.optional(), kyberPreKey: kyberPreKey.optional(), lastResortPreKey: signedPreKey.optional() })
  .refine((body) => body.signedPreKey || body.kyberPreKey || body.lastResortPreKey, 'give at least one of signedPreKey, kyberPreKey, lastResortPreKey');

export const uploadPreKeysBody = z.object({ oneTimePreKeys });

export const keysUserParams = z.object({ userId: idSchema });

export const claimBody = z.object({
  /** Only these devices of the user; all of them when left out. */
  deviceIds: z.array(deviceIdSchema).min(1).max(100).optional(),
});

/** To-device messages one request may carry, and the base64 characters of one. */
export const TO_DEVICE_LIMITS = { perRequest: 100, body: 64 * 1024 } as const;

export const toDeviceSendBody = z.object({
  messages: z
    .array(
      z.object({
        userId: idSchema,
        deviceId: deviceIdSchema,
        /** The library's message type (libsignal's CiphertextMessageType, Olm's 0/1). */
        type: z.int('must be an integer').min(0).max(255),
        body: z
          .string()
          .refine((text) => text.length <= TO_DEVICE_LIMITS.body, { message: `must be at most ${TO_DEVICE_LIMITS.body} characters`, params: TOO_LARGE_ISSUE })
          .pipe(z.base64('must be standard base64').min(1, 'must not be empty')),
      }),
    )
    .min(1)
    .refine((list) => list.length <= TO_DEVICE_LIMITS.perRequest, { message: `at most ${TO_DEVICE_LIMITS.perRequest} messages`, params: TOO_LARGE_ISSUE }),
});

export const toDeviceAckBody = z.object({ ids: z.array(idSchema).min(1).max(500) });

export const toDevicePendingQuery = z.object({ limit: pageLimitSchema });

export type ToDeviceSendInput = z.output<typeof toDeviceSendBody>['messages'][number];

export type RegisterDeviceInput = z.output<typeof registerDeviceBody>;
export type ReplacePreKeysInput = z.output<typeof replacePreKeysBody>;
export type PreKeyInput = z.output<typeof oneTimePreKey>;
export type SignedPreKeyInput = z.output<typeof signedPreKey>;

export const signedPreKeySchema = z.object({ keyId: z.int(), publicKey: z.string().meta({ description: 'Standard base64.' }), signature: z.string() });

export const deviceSchema = z.object({
  userId: wireIdSchema,
  deviceId: z.string(),
  registrationId: z.int().nullable(),
  identityKey: z.object({ algorithm: z.enum(KEY_ALGORITHMS), publicKey: z.string() }),
  createdAt: timestampSchema,
  updatedAt: timestampSchema,
});

/** The caller's own device, with what it uploaded and how many one-time prekeys are left. */
export const ownDeviceSchema = deviceSchema.extend({
  signedPreKey: signedPreKeySchema,
  kyberPreKey: signedPreKeySchema.nullable(),
  lastResortPreKey: signedPreKeySchema.nullable(),
  oneTimePreKeyCount: z.int().min(0),
});

export const preKeyBundleSchema = deviceSchema.extend({
  signedPreKey: signedPreKeySchema,
  kyberPreKey: signedPreKeySchema
    .extend({ lastResort: z.literal(true) })
    .nullable()
    .meta({ description: 'Always a last-resort key: the directory holds no one-time Kyber keys.' }),
  oneTimePreKey: z
    .object({ keyId: z.int(), publicKey: z.string(), signature: z.string().nullable(), lastResort: z.boolean() })
    .nullable()
    .meta({ description: "A one-time prekey, handed to this caller alone; else the device's last-resort key (`lastResort: true`); else null." }),
});

export const ownDeviceResponseSchema = z.object({ device: ownDeviceSchema });
export const preKeyCountResponseSchema = z.object({ oneTimePreKeyCount: z.int().min(0) });
export const deviceListResponseSchema = z.object({ devices: z.array(deviceSchema) });
export const claimResponseSchema = z.object({ bundles: z.array(preKeyBundleSchema) });

/** A user's device list changed: show a safety-number change when `identityChanged` (or a new device). */
export const devicesChangedEventSchema = z.object({ userId: wireIdSchema, deviceId: z.string(), change: z.enum(['added', 'removed', 'identityChanged']) });

/** To the device alone: fewer one-time prekeys than the threshold are left; upload more. */
export const preKeysLowEventSchema = z.object({ deviceId: z.string(), remaining: z.int().min(0), threshold: z.int().min(0) });

export const toDeviceMessageSchema = z.object({
  id: wireIdSchema,
  from: wireIdSchema,
  fromDeviceId: z.string(),
  type: z.int(),
  body: z.string(),
  createdAt: timestampSchema,
});

export const toDeviceSendResponseSchema = z.object({
  results: z
    .array(z.union([z.object({ queued: z.literal(true), id: wireIdSchema }), z.object({ queued: z.literal(false), reason: z.enum(['noSuchDevice', 'queueFull']) })]))
    .meta({ description: "In the order sent: the queued message's id, or why it was not queued." }),
});

export const toDevicePendingResponseSchema = z.object({ messages: z.array(toDeviceMessageSchema) });

export const toDeviceAckResponseSchema = z.object({ removed: z.int().min(0) });

export const toDeviceEventSchema = z.object({ message: toDeviceMessageSchema });

export type SignedPreKeyDto = z.infer<typeof signedPreKeySchema>;
export type DeviceDto = z.infer<typeof deviceSchema>;
export type OwnDeviceDto = z.infer<typeof ownDeviceSchema>;
export type PreKeyBundleDto = z.infer<typeof preKeyBundleSchema>;
export type OwnDeviceResponse = z.infer<typeof ownDeviceResponseSchema>;
export type PreKeyCountResponse = z.infer<typeof preKeyCountResponseSchema>;
export type DeviceListResponse = z.infer<typeof deviceListResponseSchema>;
export type ClaimResponse = z.infer<typeof claimResponseSchema>;
export type DevicesChangedEvent = z.infer<typeof devicesChangedEventSchema>;
export type PreKeysLowEvent = z.infer<typeof preKeysLowEventSchema>;
export type ToDeviceMessageDto = z.infer<typeof toDeviceMessageSchema>;
export type ToDeviceSendResponse = z.infer<typeof toDeviceSendResponseSchema>;
export type ToDevicePendingResponse = z.infer<typeof toDevicePendingResponseSchema>;
export type ToDeviceEvent = z.infer<typeof toDeviceEventSchema>;

export interface KeysServerEvents {
  /** A to-device message for this session's device; it stays queued until acknowledged. */
  E2EE_TO_DEVICE: (payload: ToDeviceEvent) => void;
  E2EE_DEVICES_CHANGED: (payload: DevicesChangedEvent) => void;
  E2EE_PREKEYS_LOW: (payload: PreKeysLowEvent) => void;
}
