import type { z } from 'zod';
import {
  adminUpdateUserBody,
  adminUserDetailResponseSchema,
  adminUserParams,
  adminUsersQuery,
  adminUsersResponseSchema,
  liveFiguresResponseSchema,
} from './admin.js';
import { auditQuery, auditResponseSchema } from './audit.js';
import {
  callQualityDailyQuery,
  callQualityDailyResponseSchema,
  callQualityParams,
  callQualityResponseSchema,
  callStatsBody,
  callStatsResultSchema,
} from './call-quality.js';
import {
  authResponseSchema,
  expoPushTokenBody,
  loginBody,
  logoutAllResponseSchema,
  logoutBody,
  refreshTokenBody,
  registerBody,
  removeExpoPushTokenBody,
  sessionIdParams,
  sessionsResponseSchema,
  tokenPairSchema,
  userResponseSchema,
} from './auth.js';
import { callHistoryQuery, callHistoryResponseSchema, iceServersResponseSchema } from './calls.js';
import { conversationsQuery, historyParams, historyQuery, historyResponseSchema, syncQuery } from './chat.js';
import { okResponseSchema } from './common.js';
import {
  addMembersBody,
  changeRoleBody,
  conversationMessagesQuery,
  conversationParams,
  conversationResponseSchema,
  conversationsResponseSchema,
  createGroupBody,
  memberParams,
  membersQuery,
  membersResponseSchema,
  renameGroupBody,
  syncResponseSchema,
} from './conversations.js';
import type { ErrorCode } from './errors.js';
import { healthResponseSchema, notReadyResponseSchema, readyResponseSchema } from './health.js';
import {
  claimBody,
  claimResponseSchema,
  deviceListResponseSchema,
  keysUserParams,
  ownDeviceResponseSchema,
  preKeyCountResponseSchema,
  registerDeviceBody,
  replacePreKeysBody,
  toDeviceAckBody,
  toDeviceAckResponseSchema,
  toDevicePendingQuery,
  toDevicePendingResponseSchema,
  toDeviceSendBody,
  toDeviceSendResponseSchema,
  uploadPreKeysBody,
} from './keys.js';
import { blobParams, blobQuery, directUploadBody, directUploadResponseSchema, mediaAccessResponseSchema, mediaParams, mediaResponseSchema, uploadQuery } from './media.js';
import { peopleSearchQuery, peopleSearchResponseSchema, personParams, personResponseSchema } from './people.js';
import { abuseReportsResponseSchema, blockBody, blockParams, blockResponseSchema, blocksQuery, blocksResponseSchema, reportBody, reportCreatedResponseSchema, reportsQuery } from './safety.js';

/**
 * Every REST route as data: the OpenAPI document (/openapi.json) is built from this table and the zod
 * schemas the routes validate with, and a test fails when the Express app has a route this table lacks.
 */

export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/**
 * `bearer`: an access token; `admin`: an admin's access token; `none`; `signed-url`: the URL's own
 * signature (links handed out by `GET /api/media/:id`).
 */
export type RouteAuth = 'none' | 'bearer' | 'admin' | 'signed-url';

export interface RouteResponse {
  status: number;
  description: string;
  /** JSON body; left out for 204 and for bodies of another type. */
  schema?: z.ZodType;
  /** The type of a body no schema describes: a file's bytes (any type), a page (`text/html`). */
  media?: string;
}

export interface RestRoute {
  method: HttpMethod;
  /** Express's form: `/api/chat/conversations/:id`. */
  path: string;
  tag: string;
  summary: string;
  auth: RouteAuth;
  params?: z.ZodObject;
  query?: z.ZodObject;
  /** A JSON body; `multipart` for an upload of one `file` part. */
  body?: z.ZodType | 'multipart';
  responses: RouteResponse[];
  /**
   * Codes beyond those that follow from the route's shape (authentication, a body or query to validate,
   * path parameters, a rate limit, INTERNAL): openapi.ts adds those.
   */
  errors: ErrorCode[];
  /** The limit that answers 429 RATE_LIMITED with Retry-After, in words. */
  rateLimit?: string;
}

const ok = (description = 'Done.'): RouteResponse[] => [{ status: 200, description, schema: okResponseSchema }];
const json = (schema: z.ZodType, description: string, status = 200): RouteResponse[] => [{ status, description, schema }];

const AUTH_PER_IP = 'RATE_LIMIT_AUTH_PER_IP requests to /api/auth/* per IP per RATE_LIMIT_WINDOW (default 300 per 15 minutes)';

export const restRoutes: RestRoute[] = [
  { method: 'get', path: '/health', tag: 'Health', summary: 'Alive: the process answers.', auth: 'none', responses: json(healthResponseSchema, 'The process runs.'), errors: [] },
  {
    method: 'get',
    path: '/ready',
    tag: 'Health',
    summary: 'Ready: the database answers, and Redis too when processes share it.',
    auth: 'none',
    responses: [
      { status: 200, description: 'Ready to serve.', schema: readyResponseSchema },
      { status: 503, description: 'UNAVAILABLE: a check failed; each failed check is a detail.', schema: notReadyResponseSchema },
    ],
    errors: [],
  },

  {
    method: 'get',
    path: '/openapi.json',
    tag: 'Reference',
    summary: 'This document: OpenAPI 3.1, built from the schemas the server validates with.',
    auth: 'none',
    responses: [{ status: 200, description: 'The document.', media: 'application/json' }],
    errors: [],
  },
  { method: 'get', path: '/docs', tag: 'Reference', summary: 'This document, rendered (Swagger UI).', auth: 'none', responses: [{ status: 200, description: 'The page.', media: 'text/html' }], errors: [] },
  {
    method: 'get',
    path: '/docs/events',
    tag: 'Reference',
    summary: 'The Socket.io event reference: every event, its direction, payload, ack, error codes and budget.',
    auth: 'none',
    responses: [{ status: 200, description: 'The page.', media: 'text/html' }],
    errors: [],
  },
  {
    method: 'get',
    path: '/metrics',
    tag: 'Health',
    summary:
      "This process's metrics for Prometheus. With METRICS_TOKEN set, send it as `Authorization: Bearer <METRICS_TOKEN>` (not an access token); with METRICS_PORT set, served there (loopback) instead; in production with neither, not served (404). See docs/operations.md.",
    auth: 'none',
    responses: [{ status: 200, description: 'The metrics, in the Prometheus text exposition format.', media: 'text/plain' }],
    errors: ['UNAUTHORIZED'],
  },

  {
    method: 'post',
    path: '/api/auth/register',
    tag: 'Accounts',
    summary: 'Creates an account and signs it in (a new session). The email is trimmed and lower-cased.',
    auth: 'none',
    body: registerBody,
    responses: json(authResponseSchema, 'The account, and the new session\'s tokens.', 201),
    errors: ['EMAIL_TAKEN'],
    rateLimit: AUTH_PER_IP,
  },
  {
    method: 'post',
    path: '/api/auth/login',
    tag: 'Accounts',
    summary: 'Signs in (a new session). Unknown email, wrong password and a deleted account answer the same INVALID_CREDENTIALS.',
    auth: 'none',
    body: loginBody,
    responses: json(authResponseSchema, 'The account, and the new session\'s tokens.'),
    errors: ['INVALID_CREDENTIALS', 'ACCOUNT_BANNED'],
    rateLimit: `${AUTH_PER_IP}; failed logins for one account: RATE_LIMIT_LOGIN_FAILURES per IP and RATE_LIMIT_LOGIN_FAILURES_ACCOUNT in all per window (default 10 and 100 per 15 minutes)`,
  },
  {
    method: 'post',
    path: '/api/auth/refresh-token',
    tag: 'Accounts',
    summary: 'Rotates a refresh token: new tokens, and the old refresh token stops working. Presenting a rotated one again revokes its session.',
    auth: 'none',
    body: refreshTokenBody,
    responses: json(tokenPairSchema, 'The session\'s new tokens.'),
    errors: ['UNAUTHORIZED', 'REFRESH_TOKEN_REUSED', 'ACCOUNT_BANNED'],
    rateLimit: AUTH_PER_IP,
  },
  { method: 'post', path: '/api/auth/logout', tag: 'Accounts', summary: "Ends the refresh token's session (an unknown token is fine).", auth: 'none', body: logoutBody, responses: ok('The session is over.'), errors: [], rateLimit: AUTH_PER_IP },
  {
    method: 'post',
    path: '/api/auth/logout-all',
    tag: 'Accounts',
    summary: "Ends every other session of the caller's account.",
    auth: 'bearer',
    responses: json(logoutAllResponseSchema, 'How many sessions were ended.'),
    errors: [],
    rateLimit: AUTH_PER_IP,
  },
  { method: 'get', path: '/api/auth/me', tag: 'Accounts', summary: "The caller's account.", auth: 'bearer', responses: json(userResponseSchema, 'The account.'), errors: [], rateLimit: AUTH_PER_IP },
  {
    method: 'post',
    path: '/api/auth/expo-push-token',
    tag: 'Push',
    summary: "Registers the session's Expo push token; a token that belonged to another user moves to this one.",
    auth: 'bearer',
    body: expoPushTokenBody,
    responses: ok('Registered.'),
    errors: [],
    rateLimit: AUTH_PER_IP,
  },
  { method: 'delete', path: '/api/auth/expo-push-token', tag: 'Push', summary: 'Removes an Expo push token of the caller.', auth: 'bearer', body: removeExpoPushTokenBody, responses: ok('Removed.'), errors: [], rateLimit: AUTH_PER_IP },
  { method: 'get', path: '/api/auth/sessions', tag: 'Accounts', summary: "The caller's live sessions (signed-in devices).", auth: 'bearer', responses: json(sessionsResponseSchema, 'The sessions.'), errors: [], rateLimit: AUTH_PER_IP },
  { method: 'delete', path: '/api/auth/sessions/:id', tag: 'Accounts', summary: 'Ends one of the caller\'s sessions.', auth: 'bearer', params: sessionIdParams, responses: ok('The session is over.'), errors: [], rateLimit: AUTH_PER_IP },

  {
    method: 'patch',
    path: '/api/admin/users/:id',
    tag: 'Administration',
    summary: "Changes an account's status (a ban or delete ends its sessions and sockets) or role.",
    auth: 'admin',
    params: adminUserParams,
    body: adminUpdateUserBody,
    responses: json(userResponseSchema, 'The account as changed.'),
    errors: [],
  },
  { method: 'get', path: '/api/admin/reports', tag: 'Administration', summary: 'Abuse reports, newest first.', auth: 'admin', query: reportsQuery, responses: json(abuseReportsResponseSchema, 'A page of reports.'), errors: [] },
  {
    method: 'get',
    path: '/api/admin/users',
    tag: 'Administration',
    summary: 'Every account, newest first: search by a prefix of the name or the email, filter by status.',
    auth: 'admin',
    query: adminUsersQuery,
    responses: json(adminUsersResponseSchema, 'A page of accounts.'),
    errors: [],
  },
  {
    method: 'get',
    path: '/api/admin/users/:id',
    tag: 'Administration',
    summary: 'One account with its live sessions (signed-in devices).',
    auth: 'admin',
    params: adminUserParams,
    responses: json(adminUserDetailResponseSchema, 'The account and its sessions.'),
    errors: ['NOT_FOUND'],
  },
  {
    method: 'get',
    path: '/api/admin/live',
    tag: 'Administration',
    summary: 'What is going on now: connected users and sockets, calls in progress, messages in the last minute.',
    auth: 'admin',
    responses: json(liveFiguresResponseSchema, 'The figures.'),
    errors: [],
  },
  {
    method: 'get',
    path: '/api/admin/audit',
    tag: 'Administration',
    summary: 'The audit log, newest first: logins, session ends, account status and role changes, push tokens, group ownership. Filters combine (all must hold).',
    auth: 'admin',
    query: auditQuery,
    responses: json(auditResponseSchema, 'A page of entries.'),
    errors: [],
  },
  {
    method: 'get',
    path: '/api/admin/call-quality',
    tag: 'Administration',
    summary: 'Call quality by day (UTC, by the calls\' start): calls, setup time percentiles, the share of poor and of relayed calls, the mean MOS. At most 366 days.',
    auth: 'admin',
    query: callQualityDailyQuery,
    responses: json(callQualityDailyResponseSchema, 'The days, oldest first.'),
    errors: [],
  },

  {
    method: 'get',
    path: '/api/chat/history/:userId',
    tag: 'Chat',
    summary: 'The direct conversation with a user, newest first.',
    auth: 'bearer',
    params: historyParams,
    query: historyQuery,
    responses: json(historyResponseSchema, 'A page of messages.'),
    errors: [],
  },
  { method: 'get', path: '/api/chat/conversations', tag: 'Chat', summary: "The caller's direct and group conversations, newest activity first.", auth: 'bearer', query: conversationsQuery, responses: json(conversationsResponseSchema, 'A page of conversations.'), errors: [] },
  { method: 'get', path: '/api/chat/conversations/:id', tag: 'Chat', summary: 'A conversation the caller is a member of (anyone else: NOT_FOUND).', auth: 'bearer', params: conversationParams, responses: json(conversationResponseSchema, 'The conversation.'), errors: [] },
  {
    method: 'get',
    path: '/api/chat/conversations/:id/members',
    tag: 'Chat',
    summary: "A conversation's members by join time.",
    auth: 'bearer',
    params: conversationParams,
    query: membersQuery,
    responses: json(membersResponseSchema, 'A page of members.'),
    errors: [],
  },
  {
    method: 'get',
    path: '/api/chat/conversations/:id/messages',
    tag: 'Chat',
    summary: "A conversation's messages, newest first, for its members.",
    auth: 'bearer',
    params: conversationParams,
    query: conversationMessagesQuery,
    responses: json(historyResponseSchema, 'A page of messages.'),
    errors: [],
  },
  {
    method: 'get',
    path: '/api/chat/sync',
    tag: 'Chat',
    summary: "What changed in the caller's conversations since a cursor (offline sync): apply every list, keep the cursor.",
    auth: 'bearer',
    query: syncQuery,
    responses: json(syncResponseSchema, 'The changes, each once and in its latest state.'),
    errors: [],
  },
  {
    method: 'post',
    path: '/api/chat/groups',
    tag: 'Groups',
    summary: 'Creates a group; the caller is its owner.',
    auth: 'bearer',
    body: createGroupBody,
    responses: json(conversationResponseSchema, 'The group.', 201),
    errors: ['FORBIDDEN', 'NOT_FOUND'],
    rateLimit: 'GROUPS_CREATED_PER_HOUR groups and GROUP_MEMBERS_ADDED_PER_HOUR users added per user per hour',
  },
  {
    method: 'patch',
    path: '/api/chat/groups/:id',
    tag: 'Groups',
    summary: 'Renames a group (owner or admin).',
    auth: 'bearer',
    params: conversationParams,
    body: renameGroupBody,
    responses: json(conversationResponseSchema, 'The group.'),
    errors: ['FORBIDDEN'],
  },
  {
    method: 'post',
    path: '/api/chat/groups/:id/members',
    tag: 'Groups',
    summary: 'Adds members (owner or admin).',
    auth: 'bearer',
    params: conversationParams,
    body: addMembersBody,
    responses: json(conversationResponseSchema, 'The group.'),
    errors: ['FORBIDDEN'],
    rateLimit: 'GROUP_MEMBERS_ADDED_PER_HOUR users added per user per hour',
  },
  {
    method: 'patch',
    path: '/api/chat/groups/:id/members/:userId',
    tag: 'Groups',
    summary: "Changes a member's role (owner).",
    auth: 'bearer',
    params: memberParams,
    body: changeRoleBody,
    responses: json(conversationResponseSchema, 'The group.'),
    errors: ['FORBIDDEN'],
  },
  {
    method: 'delete',
    path: '/api/chat/groups/:id/members/:userId',
    tag: 'Groups',
    summary: 'Removes a member (owner or admin), or leaves (any member naming themself). When the owner leaves, the longest-standing admin (else member) becomes owner.',
    auth: 'bearer',
    params: memberParams,
    responses: [
      { status: 200, description: 'Removed: the group.', schema: conversationResponseSchema },
      { status: 204, description: 'The caller left.' },
    ],
    errors: ['FORBIDDEN'],
  },

  {
    method: 'get',
    path: '/api/users',
    tag: 'People',
    summary: 'Searches people by name.',
    auth: 'bearer',
    query: peopleSearchQuery,
    responses: json(peopleSearchResponseSchema, 'A page of people.'),
    errors: [],
    rateLimit: 'PEOPLE_SEARCHES_PER_MINUTE per user',
  },
  { method: 'get', path: '/api/users/:id', tag: 'People', summary: 'A person (unknown, banned or deleted: NOT_FOUND).', auth: 'bearer', params: personParams, responses: json(personResponseSchema, 'The person.'), errors: [] },

  { method: 'get', path: '/api/blocks', tag: 'Safety', summary: "The caller's blocks, the latest first.", auth: 'bearer', query: blocksQuery, responses: json(blocksResponseSchema, 'A page of blocks.'), errors: [] },
  {
    method: 'post',
    path: '/api/blocks',
    tag: 'Safety',
    summary: 'Blocks a user (blocking again is harmless).',
    auth: 'bearer',
    body: blockBody,
    responses: [
      { status: 201, description: 'Blocked.', schema: blockResponseSchema },
      { status: 200, description: 'Already blocked.', schema: blockResponseSchema },
    ],
    errors: ['NOT_FOUND'],
    rateLimit: 'BLOCK_CHANGES_PER_HOUR blocks and unblocks per user',
  },
  {
    method: 'delete',
    path: '/api/blocks/:userId',
    tag: 'Safety',
    summary: 'Unblocks a user.',
    auth: 'bearer',
    params: blockParams,
    responses: [{ status: 204, description: 'Not blocked (any more).' }],
    errors: [],
    rateLimit: 'BLOCK_CHANGES_PER_HOUR blocks and unblocks per user',
  },
  {
    method: 'post',
    path: '/api/reports',
    tag: 'Safety',
    summary: 'Reports a user, or one of their messages, for admins to review.',
    auth: 'bearer',
    body: reportBody,
    responses: json(reportCreatedResponseSchema, 'Recorded.', 201),
    errors: ['NOT_FOUND'],
    rateLimit: 'ABUSE_REPORTS_PER_HOUR per user',
  },

  {
    method: 'put',
    path: '/api/keys/device',
    tag: 'E2EE keys',
    summary: "Registers (or replaces) the session's device with its public keys.",
    auth: 'bearer',
    body: registerDeviceBody,
    responses: json(ownDeviceResponseSchema, 'The device.'),
    errors: ['INVALID_STATE'],
    rateLimit: 'E2EE_KEY_UPLOADS_PER_MINUTE per user',
  },
  { method: 'get', path: '/api/keys/device', tag: 'E2EE keys', summary: "The session's device (NOT_FOUND when it registered none).", auth: 'bearer', responses: json(ownDeviceResponseSchema, 'The device.'), errors: ['NOT_FOUND'] },
  { method: 'delete', path: '/api/keys/device', tag: 'E2EE keys', summary: "Removes the session's device.", auth: 'bearer', responses: ok('Removed.'), errors: [] },
  {
    method: 'put',
    path: '/api/keys/device/prekeys',
    tag: 'E2EE keys',
    summary: 'Replaces the signed, Kyber or last-resort prekey.',
    auth: 'bearer',
    body: replacePreKeysBody,
    responses: json(ownDeviceResponseSchema, 'The device.'),
    errors: ['NOT_FOUND'],
    rateLimit: 'E2EE_KEY_UPLOADS_PER_MINUTE per user',
  },
  {
    method: 'post',
    path: '/api/keys/device/one-time-prekeys',
    tag: 'E2EE keys',
    summary: 'Adds one-time prekeys (keyIds already stored are skipped).',
    auth: 'bearer',
    body: uploadPreKeysBody,
    responses: json(preKeyCountResponseSchema, 'How many are held now.'),
    errors: ['NOT_FOUND', 'INVALID_STATE'],
    rateLimit: 'E2EE_KEY_UPLOADS_PER_MINUTE per user',
  },
  {
    method: 'get',
    path: '/api/keys/users/:userId/devices',
    tag: 'E2EE keys',
    summary: "A user's devices, oldest first.",
    auth: 'bearer',
    params: keysUserParams,
    responses: json(deviceListResponseSchema, 'The devices.'),
    errors: [],
    rateLimit: 'E2EE_KEY_CLAIMS_PER_MINUTE device lists and claims per user',
  },
  {
    method: 'post',
    path: '/api/keys/users/:userId/claim',
    tag: 'E2EE keys',
    summary: "Claims a prekey bundle of each of a user's devices (each one-time prekey is handed out once).",
    auth: 'bearer',
    params: keysUserParams,
    body: claimBody,
    responses: json(claimResponseSchema, 'The bundles.'),
    errors: [],
    rateLimit: 'E2EE_KEY_CLAIMS_PER_MINUTE device lists and claims per user',
  },
  {
    method: 'post',
    path: '/api/keys/to-device',
    tag: 'E2EE keys',
    summary: 'Queues to-device messages for other devices (delivered by E2EE_TO_DEVICE and kept until acknowledged).',
    auth: 'bearer',
    body: toDeviceSendBody,
    responses: json(toDeviceSendResponseSchema, 'Per message, queued or why not.'),
    errors: ['NOT_FOUND'],
    rateLimit: 'E2EE_TO_DEVICE_PER_MINUTE send requests per user',
  },
  {
    method: 'get',
    path: '/api/keys/to-device',
    tag: 'E2EE keys',
    summary: "The to-device messages queued for the session's device, oldest first.",
    auth: 'bearer',
    query: toDevicePendingQuery,
    responses: json(toDevicePendingResponseSchema, 'The messages.'),
    errors: ['NOT_FOUND'],
  },
  {
    method: 'post',
    path: '/api/keys/to-device/ack',
    tag: 'E2EE keys',
    summary: 'Acknowledges (removes) processed to-device messages.',
    auth: 'bearer',
    body: toDeviceAckBody,
    responses: json(toDeviceAckResponseSchema, 'How many were removed.'),
    errors: ['NOT_FOUND'],
  },

  {
    method: 'post',
    path: '/api/media',
    tag: 'Media',
    summary: 'Uploads one file (multipart/form-data, one `file` part); its type is sniffed from its bytes.',
    auth: 'bearer',
    query: uploadQuery,
    body: 'multipart',
    responses: json(mediaResponseSchema, 'The upload, ready to attach.', 201),
    errors: ['QUOTA_EXCEEDED', 'UNSUPPORTED_MEDIA_TYPE'],
    rateLimit: 'MEDIA_UPLOAD_REQUESTS_PER_MINUTE requests and MEDIA_UPLOADS_PER_DAY uploads per user',
  },
  {
    method: 'post',
    path: '/api/media/uploads',
    tag: 'Media',
    summary: 'Starts a direct upload to the S3 store (NOT_FOUND without one): PUT the bytes to `upload.url`, then complete it.',
    auth: 'bearer',
    body: directUploadBody,
    responses: json(directUploadResponseSchema, 'The upload record and where to send the bytes.', 201),
    errors: ['NOT_FOUND', 'QUOTA_EXCEEDED'],
    rateLimit: 'MEDIA_UPLOAD_REQUESTS_PER_MINUTE requests and MEDIA_UPLOADS_PER_DAY uploads per user',
  },
  {
    method: 'post',
    path: '/api/media/:id/complete',
    tag: 'Media',
    summary: 'Completes a direct upload once its bytes are in the store.',
    auth: 'bearer',
    params: mediaParams,
    responses: json(mediaResponseSchema, 'The upload, ready to attach.'),
    errors: ['INVALID_STATE', 'PAYLOAD_TOO_LARGE', 'UNSUPPORTED_MEDIA_TYPE'],
  },
  {
    method: 'get',
    path: '/api/media/:id',
    tag: 'Media',
    summary: 'An upload the caller may see, with signed URLs to fetch its bytes (and thumbnail).',
    auth: 'bearer',
    params: mediaParams,
    responses: json(mediaAccessResponseSchema, 'The media and its URLs.'),
    errors: [],
  },
  {
    method: 'get',
    path: '/api/media/blob/:key',
    tag: 'Media',
    summary: "The local store's downloads: a URL from `GET /api/media/:id`, signed in place of an access token (range requests work).",
    auth: 'signed-url',
    params: blobParams,
    query: blobQuery,
    responses: [
      { status: 200, description: 'The bytes.', media: '*/*' },
      { status: 206, description: 'The range asked for.', media: '*/*' },
    ],
    errors: ['FORBIDDEN', 'NOT_FOUND'],
  },

  {
    method: 'get',
    path: '/api/call/history',
    tag: 'Calls',
    summary: "The caller's 1:1 and group calls, newest first.",
    auth: 'bearer',
    query: callHistoryQuery,
    responses: json(callHistoryResponseSchema, 'A page of calls.'),
    errors: [],
  },
  {
    method: 'get',
    path: '/api/call/ice-servers',
    tag: 'Calls',
    summary: 'STUN, and TURN with short-lived credentials of the caller\'s own where a TURN server is configured.',
    auth: 'bearer',
    responses: json(iceServersResponseSchema, 'The ICE servers.'),
    errors: [],
  },
  {
    method: 'post',
    path: '/api/call/:id/stats',
    tag: 'Calls',
    summary: "A quality report (WebRTC stats summary) of the caller's device in a call of theirs, while it is live or up to 2 minutes after it ended; the same as CALL_STATS, sharing its budget.",
    auth: 'bearer',
    params: callQualityParams,
    body: callStatsBody,
    responses: json(callStatsResultSchema, "The report's MOS estimate."),
    errors: ['NOT_FOUND', 'INVALID_STATE'],
    rateLimit: 'CALL_STATS_PER_MINUTE reports per user per minute (default 30), CALL_STATS included',
  },
  {
    method: 'get',
    path: '/api/call/:id/quality',
    tag: 'Calls',
    summary: "Each participant's latest quality summary of a call (its parties only).",
    auth: 'bearer',
    params: callQualityParams,
    responses: json(callQualityResponseSchema, 'The summaries.'),
    errors: ['NOT_FOUND'],
  },
];
