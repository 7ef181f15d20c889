import { z } from 'zod';
import { idSchema, TOO_LARGE_ISSUE } from './common.js';
import { deviceIdSchema } from './keys.js';

/**
 * An end-to-end encrypted chat payload (docs/api/e2ee.md): the server checks its shape and sizes and
 * relays it untouched to every device of the conversation; each device picks what is addressed to it.
 */

/** Base64 characters of one ciphertext, and of all of a message's ciphertexts together. */
export const CIPHERTEXT_LIMITS = { body: 32 * 1024, total: 96 * 1024, recipients: 50 } as const;

const ciphertextBody = z
  .string()
  .refine((text) => text.length <= CIPHERTEXT_LIMITS.body, { message: `must be at most ${CIPHERTEXT_LIMITS.body} characters`, params: TOO_LARGE_ISSUE })
  .pipe(z.base64('must be standard base64').min(1, 'must not be empty'));

/** The library's message type (libsignal's CiphertextMessageType, Olm's 0/1). */
const messageType = z.int('must be an integer').min(0).max(255);

export const encryptedContentSchema = z
  .object({
    /** Which protocol made it, for the receiving app: `signal`, `signal-sender-key`, `olm`, `megolm`, ... */
    scheme: z.string().regex(/^[a-z0-9._-]{1,32}$/, 'must be 1-32 of a-z, 0-9, . _ -'),
    /** The sending device (its deviceId in the key directory), so receivers pick the right session. */
    senderDeviceId: deviceIdSchema,
    /** One ciphertext per recipient device (direct and small group conversations), the sender's other devices included. */
    ciphertexts: z
      .array(z.object({ userId: idSchema, deviceId: deviceIdSchema, type: messageType, body: ciphertextBody }))
      .min(1)
      .refine((list) => list.length <= CIPHERTEXT_LIMITS.recipients, { message: `at most ${CIPHERTEXT_LIMITS.recipients} devices`, params: TOO_LARGE_ISSUE })
      .optional(),
    /** One ciphertext every member decrypts with the sender's sender key (Megolm, Signal sender keys). */
    groupCiphertext: z.object({ body: ciphertextBody, distributionId: z.string().regex(/^[\w.:-]{1,100}$/).optional() }).optional(),
  })
  .refine((content) => (content.ciphertexts === undefined) !== (content.groupCiphertext === undefined), {
    message: 'give exactly one of ciphertexts and groupCiphertext',
    path: ['ciphertexts'],
  })
  .refine(
    (content) => (content.ciphertexts ?? []).reduce((sum, entry) => sum + entry.body.length, content.groupCiphertext?.body.length ?? 0) <= CIPHERTEXT_LIMITS.total,
    { message: `the ciphertexts must be at most ${CIPHERTEXT_LIMITS.total} characters together`, params: TOO_LARGE_ISSUE },
  );

export type EncryptedContent = z.output<typeof encryptedContentSchema>;
