import type { ColumnType } from 'kysely';
import type { CallEndReason, CallStatus, CallType } from '../../calls/call-state-machine.js';
import type { IceCandidateType, QualityBand } from '../../protocol/call-quality.js';
import type { CallTopologyKind } from '../../protocol/calls.js';
import type { EncryptedContent } from '../../protocol/encrypted.js';
import type { AttachmentRecord } from '../../media/media-store.js';
import type { KeyAlgorithm } from '../../protocol/keys.js';
import type { MediaKind } from '../../protocol/media.js';
import type { PushContent, PushKind } from '../../push/push-store.js';
import type { AbuseReason } from '../../protocol/safety.js';
import type { AuditEntryRecord } from '../../audit/audit-store.js';
import type { ConversationType, MemberRole, UserRole, UserStatus } from '../ports.js';

/** Table shapes as Kysely sees them; kept in step with ./migrations. */
export interface UsersTable {
  id: string;
  email: string;
  name: string;
  password_hash: string;
  role: ColumnType<UserRole, UserRole | undefined, UserRole>;
  status: ColumnType<UserStatus, UserStatus | undefined, UserStatus>;
  created_at: Date;
  last_seen_at: Date | null;
}

export interface SessionsTable {
  id: string;
  user_id: string;
  device_name: string | null;
  user_agent: string | null;
  ip: string | null;
  created_at: Date;
  last_used_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  token_hash: string;
  session_id: string;
  created_at: Date;
  used_at: Date | null;
}

export interface PushTokensTable {
  token: string;
  user_id: string;
  /** Null only for tokens stored before tokens belonged to sessions. */
  session_id: string | null;
  device_id: string | null;
  updated_at: Date;
}

export interface PushOutboxTable {
  id: string;
  token: string;
  user_id: string;
  kind: PushKind;
  /** jsonb: written as JSON text, read back parsed. */
  content: ColumnType<PushContent, string, string>;
  coalesce_key: string | null;
  due_at: Date;
  expires_at: Date;
  attempts: ColumnType<number, number | undefined, number>;
  lease_until: Date | null;
  /** Merges of newer pushes into this one; leased_revision is the revision the current lease took. */
  revision: ColumnType<number, number | undefined, number>;
  leased_revision: ColumnType<number, number | undefined, number>;
  ticket_id: string | null;
  sent_at: Date | null;
  receipt_at: Date | null;
  created_at: Date;
}

/**
 * A row's place in the chat changes: the writing transaction's id (xid8) and a sequence value (bigint),
 * both read as strings by node-postgres. Inserts take them from the column defaults; updates set them
 * with `newChangePosition` (change-positions.ts).
 */
type ChangePositionPart = ColumnType<string, never, string>;

export interface MessagesTable {
  id: string;
  conversation_id: string;
  sender_id: string;
  /** The other member of a direct conversation; null in a group. */
  recipient_id: string | null;
  text: string;
  /** jsonb: written as JSON text, read back parsed; null on plain text. */
  encrypted: ColumnType<EncryptedContent | null, string | null, string | null>;
  /** jsonb, like encrypted; null on a message without attachments. */
  attachments: ColumnType<AttachmentRecord[] | null, string | null, string | null>;
  client_message_id: string | null;
  created_at: Date;
  delivered_at: Date | null;
  read_at: Date | null;
  edited_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** A deleted message is a tombstone: text '' and no encrypted payload, reply or reactions. */
  deleted_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  deleted_by: ColumnType<string | null, string | null | undefined, string | null>;
  reply_to_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Counts the changes of the content and reactions. */
  revision: ColumnType<number, number | undefined, number>;
  change_xid: ChangePositionPart;
  change_pos: ChangePositionPart;
}

export interface MessageReactionsTable {
  message_id: string;
  user_id: string;
  emoji: string;
  created_at: Date;
}

/** Messages a user deleted for themself only. */
export interface MessageHidesTable {
  user_id: string;
  message_id: string;
  conversation_id: string;
  hidden_at: Date;
  change_xid: ChangePositionPart;
  change_pos: ChangePositionPart;
}

export interface UserBlocksTable {
  blocker_id: string;
  blocked_id: string;
  created_at: Date;
}

export interface AbuseReportsTable {
  id: string;
  reporter_id: string;
  reported_user_id: string;
  message_id: string | null;
  reason: AbuseReason;
  details: string | null;
  created_at: Date;
}

export interface ConversationsTable {
  id: string;
  type: ConversationType;
  /** Groups only. */
  title: string | null;
  /** Direct conversations only: their two users, the lower id first. */
  direct_low_user_id: string | null;
  direct_high_user_id: string | null;
  created_at: Date;
  member_count: number;
  change_xid: ChangePositionPart;
  change_pos: ChangePositionPart;
}

export interface ConversationMembersTable {
  conversation_id: string;
  user_id: string;
  role: MemberRole;
  joined_at: Date;
  left_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  last_read_message_id: ColumnType<string | null, string | null | undefined, string | null>;
  last_read_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** Whether the member has ever written in the conversation: a direct peer then sees their presence. */
  has_written: ColumnType<boolean, boolean | undefined, boolean>;
  change_xid: ChangePositionPart;
  change_pos: ChangePositionPart;
}

/** The columns of a call, 1:1 or group, that its transitions change. */
export interface CallProgressColumns {
  status: CallStatus;
  answered_at: Date | null;
  ended_at: Date | null;
  duration_seconds: number | null;
  end_reason: CallEndReason | null;
}

export interface CallsTable extends CallProgressColumns {
  id: string;
  caller_id: string;
  callee_id: string;
  type: CallType;
  created_at: Date;
  /** The process that runs the call (see ProcessLiveness). */
  owner_id: string;
}

export interface GroupCallsTable extends CallProgressColumns {
  id: string;
  conversation_id: string;
  started_by: string;
  type: CallType;
  topology: CallTopologyKind;
  created_at: Date;
  revision: number;
  owner_id: string;
}

export interface GroupCallMembersTable {
  call_id: string;
  user_id: string;
  position: number;
  joined_at: Date | null;
  left_at: Date | null;
  in_call_since: Date | null;
  /** bigint: node-postgres reads it as a string. */
  ms_in_call: ColumnType<string, number, number>;
  declined_at: Date | null;
}

export interface AccountEventsTable {
  seq: ColumnType<string, never, never>;
  user_id: string;
  kind: 'sessions_revoked' | 'account_changed';
  /** sessions_revoked: the sessions that were revoked. */
  session_ids: string[] | null;
  /** account_changed: the account's status after the change. */
  status: UserStatus | null;
  created_at: ColumnType<Date, never, never>;
}

export interface E2eeDevicesTable {
  session_id: string;
  user_id: string;
  device_id: string;
  registration_id: number | null;
  identity_algorithm: KeyAlgorithm;
  identity_key: Uint8Array;
  signed_prekey_id: number;
  signed_prekey: Uint8Array;
  signed_prekey_signature: Uint8Array;
  kyber_prekey_id: number | null;
  kyber_prekey: Uint8Array | null;
  kyber_prekey_signature: Uint8Array | null;
  last_resort_prekey_id: number | null;
  last_resort_prekey: Uint8Array | null;
  last_resort_prekey_signature: Uint8Array | null;
  created_at: Date;
  updated_at: Date;
}

export interface E2eeOneTimePrekeysTable {
  session_id: string;
  key_id: number;
  public_key: Uint8Array;
  signature: Uint8Array | null;
}

export interface E2eeToDeviceMessagesTable {
  id: string;
  session_id: string;
  sender_id: string;
  sender_device_id: string;
  type: number;
  body: string;
  created_at: Date;
}

export interface MediaTable {
  id: string;
  owner_id: string;
  status: 'uploading' | 'ready';
  kind: MediaKind;
  content_type: string;
  /** bigint: node-postgres reads it as a string. */
  size: ColumnType<string, number, number>;
  file_name: string | null;
  width: number | null;
  height: number | null;
  duration_ms: number | null;
  thumbnail_width: number | null;
  thumbnail_height: number | null;
  encrypted: boolean;
  message_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: Date;
  attached_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  discarded_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface AuditLogTable {
  id: string;
  at: Date;
  type: AuditEntryRecord['type'];
  actor_id: string | null;
  target_user_id: string | null;
  ip: string | null;
  user_agent: string | null;
  /** jsonb: written as JSON text, read back parsed. */
  details: ColumnType<AuditEntryRecord['details'], string, never>;
}

export interface CallQualityTable {
  call_id: string;
  user_id: string;
  device_key: string;
  started_at: Date;
  reports: number;
  mos: number;
  band: QualityBand;
  rtt_ms: number | null;
  max_rtt_ms: number | null;
  jitter_ms: number | null;
  packet_loss_pct: number | null;
  max_packet_loss_pct: number | null;
  bitrate_in_kbps: number | null;
  bitrate_out_kbps: number | null;
  frames_decoded: number | null;
  frames_dropped: number | null;
  codec: string | null;
  relayed: boolean;
  local_candidate_type: IceCandidateType | null;
  remote_candidate_type: IceCandidateType | null;
  setup_ms: number | null;
  updated_at: Date;
}

export interface Database {
  users: UsersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  push_tokens: PushTokensTable;
  push_outbox: PushOutboxTable;
  messages: MessagesTable;
  message_reactions: MessageReactionsTable;
  message_hides: MessageHidesTable;
  user_blocks: UserBlocksTable;
  abuse_reports: AbuseReportsTable;
  conversations: ConversationsTable;
  conversation_members: ConversationMembersTable;
  calls: CallsTable;
  group_calls: GroupCallsTable;
  group_call_members: GroupCallMembersTable;
  account_events: AccountEventsTable;
  e2ee_devices: E2eeDevicesTable;
  e2ee_one_time_prekeys: E2eeOneTimePrekeysTable;
  e2ee_to_device_messages: E2eeToDeviceMessagesTable;
  media: MediaTable;
  audit_log: AuditLogTable;
  call_quality: CallQualityTable;
}

