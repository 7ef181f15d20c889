import { z } from 'zod';
import type { ClientEvent } from './ack.js';
import { idSchema, timestampSchema, wireIdSchema } from './common.js';

/** Call-quality reports and their summaries (docs/api/calls.md, "Call quality"). */

export const ICE_CANDIDATE_TYPES = ['host', 'srflx', 'prflx', 'relay'] as const;
export type IceCandidateType = (typeof ICE_CANDIDATE_TYPES)[number];

export const QUALITY_BANDS = ['good', 'fair', 'poor'] as const;
export type QualityBand = (typeof QUALITY_BANDS)[number];

const measure = (max: number, description: string) => z.number().min(0).max(max).meta({ description });
const count = (description: string) => z.int().min(0).max(1_000_000_000).meta({ description });

/** One WebRTC getStats() summary of the reporting device, as the client SDK's statsFromReport builds it. */
export const callStatsSchema = z.strictObject({
  rttMs: measure(10_000, 'Round-trip time of the selected candidate pair, in milliseconds.').optional(),
  jitterMs: measure(10_000, 'Inbound jitter, in milliseconds.').optional(),
  packetLossPct: measure(100, 'Inbound packets lost, in percent of those expected.').optional(),
  bitrateInKbps: measure(100_000, 'Received bitrate, in kbit/s.').optional(),
  bitrateOutKbps: measure(100_000, 'Sent bitrate, in kbit/s.').optional(),
  framesDecoded: count('Video frames decoded so far.').optional(),
  framesDropped: count('Video frames dropped so far.').optional(),
  codec: z
    .string()
    .regex(/^[a-zA-Z0-9./-]{1,40}$/, 'must be 1 to 40 letters, digits, dots, slashes or dashes')
    .meta({ description: 'The codec\'s MIME type, such as "audio/opus".' })
    .optional(),
  relayed: z.boolean().meta({ description: 'Whether the media goes through a TURN relay.' }).optional(),
  localCandidateType: z.enum(ICE_CANDIDATE_TYPES).optional(),
  remoteCandidateType: z.enum(ICE_CANDIDATE_TYPES).optional(),
});
export type CallStats = z.infer<typeof callStatsSchema>;

/** POST /api/call/:id/stats: a report of the caller's device in the call. */
export const callStatsBody = z.strictObject({
  final: z.boolean().meta({ description: 'The last report, sent as the call ends.' }).optional(),
  setupMs: z.int().min(0).max(120_000).meta({ description: 'Milliseconds from placing or answering the call to media flowing.' }).optional(),
  stats: callStatsSchema,
});
export type CallStatsBody = z.infer<typeof callStatsBody>;

/** CALL_STATS: the same report over the socket, naming the call. */
export const callStatsPayload = callStatsBody.extend({ callId: idSchema });
export type CallStatsPayload = z.infer<typeof callStatsPayload>;

export const callQualityParams = z.object({ id: idSchema });

export const qualityEstimateSchema = z.object({
  mos: z.number().meta({ description: 'The estimated mean opinion score, 1 to 4.5 (ITU-T G.107 E-model, simplified).' }),
  band: z.enum(QUALITY_BANDS).meta({ description: 'good: MOS at least 4.0; fair: at least 3.6; poor: below.' }),
});
export type QualityEstimate = z.infer<typeof qualityEstimateSchema>;

/** The ack of CALL_STATS and the answer of POST /api/call/:id/stats: the estimate of this report. */
export const callStatsResultSchema = z.object({ quality: qualityEstimateSchema });
export type CallStatsResult = z.infer<typeof callStatsResultSchema>;

const nullable = <T extends z.ZodType>(schema: T) => schema.nullable();

/** One participant's latest figures over their devices' reports (the device that reported last). */
export const participantQualitySchema = z.object({
  userId: wireIdSchema,
  reports: z.int().min(0).meta({ description: 'Reports received from this participant (all devices).' }),
  mos: z.number(),
  band: z.enum(QUALITY_BANDS),
  rttMs: nullable(z.number()),
  maxRttMs: nullable(z.number()),
  jitterMs: nullable(z.number()),
  packetLossPct: nullable(z.number()),
  maxPacketLossPct: nullable(z.number()),
  bitrateInKbps: nullable(z.number()),
  bitrateOutKbps: nullable(z.number()),
  framesDecoded: nullable(z.int()),
  framesDropped: nullable(z.int()),
  codec: nullable(z.string()),
  relayed: z.boolean().meta({ description: 'True if any report of the participant said the media was relayed.' }),
  localCandidateType: nullable(z.enum(ICE_CANDIDATE_TYPES)),
  remoteCandidateType: nullable(z.enum(ICE_CANDIDATE_TYPES)),
  setupMs: nullable(z.int()),
  updatedAt: timestampSchema,
});
export type ParticipantQualityDto = z.infer<typeof participantQualitySchema>;

export const callQualityResponseSchema = z.object({ callId: wireIdSchema, participants: z.array(participantQualitySchema) });
export type CallQualityDto = z.infer<typeof callQualityResponseSchema>;

const day = z.iso.date({ message: 'must be a date, YYYY-MM-DD' });

/** The longest span the admin aggregate covers. */
export const QUALITY_MAX_DAYS = 366;

export const callQualityDailyQuery = z
  .object({
    from: day.optional().meta({ description: 'The first day (UTC), default 29 days before `to`.' }),
    to: day.optional().meta({ description: 'The last day (UTC), included; default today.' }),
  })
  .refine((query) => !query.from || !query.to || query.from <= query.to, { message: 'must not be before from', path: ['to'] });
export type CallQualityDailyQuery = z.infer<typeof callQualityDailyQuery>;

export const callQualityDaySchema = z.object({
  day: z.string().meta({ description: 'YYYY-MM-DD (UTC), by the calls\' start.' }),
  calls: z.int().min(0).meta({ description: '1:1 and group calls started that day.' }),
  reportedCalls: z.int().min(0).meta({ description: 'Of those, the calls with quality reports.' }),
  setupMsP50: z.number().nullable(),
  setupMsP95: z.number().nullable(),
  poorShare: z.number().nullable().meta({ description: 'Share (0 to 1) of reported calls where a participant\'s band is poor.' }),
  relayShare: z.number().nullable().meta({ description: 'Share (0 to 1) of reported calls where a participant was relayed.' }),
  mosAvg: z.number().nullable().meta({ description: 'Mean MOS over the participants of reported calls.' }),
});
export type CallQualityDay = z.infer<typeof callQualityDaySchema>;

export const callQualityDailyResponseSchema = z.object({ days: z.array(callQualityDaySchema).meta({ description: 'Oldest first; days without calls are left out.' }) });
export type CallQualityResponse = z.infer<typeof callQualityDailyResponseSchema>;

/** Quality reports over the socket; documented in docs/api/calls.md. */
export interface CallQualityClientEvents {
  /** A device's WebRTC stats of a call it is in (live, or just ended). */
  CALL_STATS: ClientEvent<CallStatsPayload, CallStatsResult>;
}
