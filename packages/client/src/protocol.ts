/**
 * The wire types, taken from the server's protocol module (src/protocol) so there is one source of
 * truth. Type-only: nothing of the server (zod, its schemas) reaches an app's bundle.
 */
export type { AckResponse } from '../../../src/protocol/ack.js';
export type { AdminSessionDto, AdminUserDetailResponse, AdminUserDto, AdminUsersResponse, LiveFiguresResponse } from '../../../src/protocol/admin.js';
export type { AuditEntryDto, AuditResponse, AuditType } from '../../../src/protocol/audit.js';
export type { AuthResponse, TokenPair, UserDto, SessionDto } from '../../../src/protocol/auth.js';
export type {
  CallAcceptedEvent,
  CallDeclinedEvent,
  CallEndedEvent,
  CallIdEvent,
  CallSignalEvent,
  CallStateEvent,
  DirectCallStateEvent,
  GroupCallResult,
  IceCandidate,
  IceCandidateEvent,
  IncomingCallEvent,
  IncomingGroupCallEvent,
  ParticipantDto,
  ParticipantEvent,
  ParticipantLeftEvent,
  SessionDescription,
} from '../../../src/protocol/call-events.js';
export type {
  CallQualityDay,
  CallQualityDto,
  CallQualityResponse,
  CallStats,
  CallStatsBody,
  CallStatsResult,
  IceCandidateType,
  ParticipantQualityDto,
  QualityBand,
} from '../../../src/protocol/call-quality.js';
export type { CallDto, CallHistoryResponse, GroupCallDto, IceServer, IceServersResponse } from '../../../src/protocol/calls.js';
export type {
  ChatMessageEvent,
  ConversationsResponse,
  HistoryResponse,
  MessageDeleteEvent,
  MessageDto,
  MessageReadEvent,
  SendMessagePayload,
  SyncResponse,
  TypingEvent,
} from '../../../src/protocol/chat.js';
export type { Timestamp } from '../../../src/protocol/common.js';
export type {
  ConversationDto,
  ConversationResponse,
  ConversationUpdatedEvent,
  MemberDto,
  MemberRole,
  MembersResponse,
} from '../../../src/protocol/conversations.js';
export type { ErrorBody, ErrorCode, ErrorDetail, ErrorResponse } from '../../../src/protocol/errors.js';
export type { ClientToServerEvents, ConnectErrorCode, ServerToClientEvents } from '../../../src/protocol/events.js';
export type { PeopleSearchResponse, PersonDto, PresenceEvent } from '../../../src/protocol/people.js';
export type { SessionEndReason, SessionEndedEvent } from '../../../src/protocol/session-events.js';
