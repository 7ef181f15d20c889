import { z } from 'zod';
import { auditEntrySchema } from '../protocol/audit.js';
import { sessionSchema, userSchema } from '../protocol/auth.js';
import { participantSchema } from '../protocol/call-events.js';
import { callSchema, groupCallMemberSchema, groupCallSchema, iceServerSchema } from '../protocol/calls.js';
import { hiddenMessageSchema, messageSchema, reactionSchema, replyPreviewSchema } from '../protocol/chat.js';
import { conversationChangeSchema, conversationSchema, leftConversationSchema, memberSchema, readPositionSchema, sharedConversationSchema } from '../protocol/conversations.js';
import { encryptedContentSchema } from '../protocol/encrypted.js';
import { errorBodySchema, errorResponseSchema } from '../protocol/errors.js';
import { deviceSchema, ownDeviceSchema, preKeyBundleSchema, signedPreKeySchema, toDeviceMessageSchema } from '../protocol/keys.js';
import { attachmentSchema, mediaSchema } from '../protocol/media.js';
import { personSchema } from '../protocol/people.js';
import { abuseReportSchema, blockSchema } from '../protocol/safety.js';
import { iceCandidateSchema, sessionDescriptionSchema } from '../protocol/call-events.js';

/** The named shapes of the wire: components of the OpenAPI document and the shapes section of the event reference. */
export const NAMED_SHAPES: Record<string, z.ZodType> = {
  User: userSchema,
  Session: sessionSchema,
  Person: personSchema,
  Message: messageSchema,
  ReplyPreview: replyPreviewSchema,
  Reaction: reactionSchema,
  EncryptedContent: encryptedContentSchema,
  Attachment: attachmentSchema,
  Media: mediaSchema,
  Conversation: conversationSchema,
  SharedConversation: sharedConversationSchema,
  ConversationChange: conversationChangeSchema,
  Member: memberSchema,
  ReadPosition: readPositionSchema,
  LeftConversation: leftConversationSchema,
  HiddenMessage: hiddenMessageSchema,
  Call: callSchema,
  GroupCall: groupCallSchema,
  GroupCallMember: groupCallMemberSchema,
  Participant: participantSchema,
  SessionDescription: sessionDescriptionSchema,
  IceCandidate: iceCandidateSchema,
  IceServer: iceServerSchema,
  Block: blockSchema,
  AbuseReport: abuseReportSchema,
  AuditEntry: auditEntrySchema,
  Device: deviceSchema,
  OwnDevice: ownDeviceSchema,
  PreKeyBundle: preKeyBundleSchema,
  SignedPreKey: signedPreKeySchema,
  ToDeviceMessage: toDeviceMessageSchema,
  ErrorBody: errorBodySchema,
  ErrorResponse: errorResponseSchema,
};

export type JsonSchema = Record<string, unknown>;

/**
 * Converts schemas to JSON Schema 2020-12 (OpenAPI 3.1's dialect) with zod's own z.toJSONSchema, in one
 * pass so the named shapes become `$ref`s to `refBase + name` wherever they occur. Request schemas are
 * described as clients send them (`io: 'input'`: before defaults and transforms); response schemas hold
 * no transforms, so the same mode describes them exactly. Refinements (cross-field rules) are not
 * representable and are left to the descriptions.
 *
 * `anonymous` are the schemas to describe (a payload, a body); they come back inline, in order.
 */
export function toJsonSchemas(anonymous: readonly z.ZodType[], refBase: string): { shapes: Record<string, JsonSchema>; inline: JsonSchema[] } {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(NAMED_SHAPES)) registry.add(schema, { id });
  const inlineIds = anonymous.map((schema, index) => {
    const named = registry.get(schema)?.id;
    if (named) return named;
    const id = `__inline_${index}`;
    registry.add(schema, { id });
    return id;
  });
  const { schemas } = z.toJSONSchema(registry, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any', uri: (id) => `${refBase}${id}` });
  for (const schema of Object.values(schemas)) {
    delete schema.$schema;
    delete schema.id;
    delete schema.$id;
  }
  const shapes: Record<string, JsonSchema> = {};
  for (const id of Object.keys(NAMED_SHAPES)) shapes[id] = schemas[id] as JsonSchema;
  if (JSON.stringify(shapes).includes(`${refBase}__inline_`)) throw new Error('A named shape embeds a schema described as anonymous: name that schema in NAMED_SHAPES');
  // One anonymous schema may embed another (an ack that is a union of two others): copy it in.
  const resolve = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(resolve);
    if (!value || typeof value !== 'object') return value;
    const ref = (value as JsonSchema).$ref;
    if (typeof ref === 'string' && ref.startsWith(`${refBase}__inline_`)) return resolve(schemas[ref.slice(refBase.length)]);
    return Object.fromEntries(Object.entries(value).map(([key, inner]) => [key, resolve(inner)]));
  };
  const inline = inlineIds.map((id) => (id in NAMED_SHAPES ? { $ref: `${refBase}${id}` } : (resolve(schemas[id]) as JsonSchema)));
  return { shapes, inline };
}
