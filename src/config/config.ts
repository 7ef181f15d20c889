import { availableParallelism } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { durationSeconds } from './duration.js';

const list = z
  .string()
  .transform((text) => text.split(',').map((item) => item.trim()).filter(Boolean));

const MIB = 1024 * 1024;

const int = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);

/** A comma-separated list of ICE server URLs of one scheme (stun: or turn:, and their secure forms). */
const iceUrls = (scheme: RegExp, example: string) =>
  list.pipe(z.array(z.string().regex(scheme, `each URL must start with ${example} (or ${example.replace(':', 's:')})`)));

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  HOST: z.string().default('0.0.0.0'),
  DATA_DIR: z.string().min(1).default('./data'),
  /** The built demo web app served at /demo (npm run build writes it to dist/demo-app). */
  DEMO_DIR: z.string().min(1).default(fileURLToPath(new URL('../../dist/demo-app', import.meta.url))),
  /** The built admin dashboard served at /admin (npm run build writes it to dist/admin-app). */
  ADMIN_DIR: z.string().min(1).default(fileURLToPath(new URL('../../dist/admin-app', import.meta.url))),
  DATABASE_URL: z.url({ protocol: /^postgres(ql)?$/ }).optional(),
  MONGO_URI: z.string().regex(/^mongodb(\+srv)?:\/\//, 'must be a mongodb:// or mongodb+srv:// connection string').optional(),
  MONGO_SERVER_SELECTION_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  REDIS_URL: z.url({ protocol: /^rediss?$/ }).optional(),
  REDIS_PREFIX: z.string().regex(/^[\w:.-]{1,64}$/, 'letters, digits and _ : . - only').default('call-app:'),
  PRESENCE_PROCESS_TTL_MS: z.coerce.number().int().min(500).default(10_000),
  JWT_SECRET: z.string().optional(),
  JWT_ISSUER: z.string().min(1).default('call-app-backend'),
  JWT_AUDIENCE: z.string().min(1).default('call-app-backend'),
  JWT_ACCESS_TTL: durationSeconds.default(15 * 60),
  JWT_REFRESH_TTL: durationSeconds.default(30 * 86400),
  CORS_ORIGINS: list.optional(),
  TRUST_PROXY: z.string().default('false'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  LOG_PRETTY: z.stringbool().optional(),
  RATE_LIMIT_WINDOW: durationSeconds.default(15 * 60),
  // One core is left to the event loop (see Passwords).
  PASSWORD_HASH_CONCURRENCY: z.coerce.number().int().positive().default(Math.max(1, availableParallelism() - 1)),
  RATE_LIMIT_AUTH_PER_IP: int(300),
  RATE_LIMIT_LOGIN_FAILURES: int(10),
  RATE_LIMIT_LOGIN_FAILURES_ACCOUNT: int(100),
  PEOPLE_SEARCHES_PER_MINUTE: int(30),
  SESSION_CLEANUP_INTERVAL: durationSeconds.default(3600),
  SESSION_RETENTION: durationSeconds.default(7 * 86400),
  ACCOUNT_EVENTS_POLL_MS: z.coerce.number().int().positive().default(1000),
  SHUTDOWN_TIMEOUT_MS: int(10_000),
  SOCKET_MAX_CONNECTIONS_PER_USER: z.coerce.number().int().positive().default(10),
  SOCKET_RATE_WINDOW: durationSeconds.default(10),
  SOCKET_EVENTS_PER_WINDOW: int(300),
  SOCKET_BYTES_PER_WINDOW: int(4 * 1024 * 1024),
  SOCKET_MAX_PENDING_EVENTS: z.coerce.number().int().positive().default(32),
  SOCKET_MAX_BUFFERED_BYTES: z.coerce.number().int().positive().default(8 * 1024 * 1024),
  CHAT_RATE_WINDOW: durationSeconds.default(10),
  CHAT_MESSAGES_PER_WINDOW: int(30),
  CHAT_TYPING_PER_WINDOW: int(20),
  CHAT_RECEIPTS_PER_WINDOW: int(200),
  CHAT_CHANGES_PER_WINDOW: int(30),
  CHAT_REACTIONS_PER_WINDOW: int(60),
  MESSAGE_EDIT_WINDOW: durationSeconds.default(15 * 60),
  MESSAGE_DELETE_WINDOW: durationSeconds.default(2 * 86400),
  MESSAGE_REACTIONS_PER_USER: z.coerce.number().int().min(1).max(20).default(3),
  BLOCK_CHANGES_PER_HOUR: int(100),
  ABUSE_REPORTS_PER_HOUR: int(20),
  PRESENCE_SUBSCRIBES_PER_MINUTE: int(30),
  GROUP_MAX_MEMBERS: z.coerce.number().int().min(2).default(1000),
  GROUPS_CREATED_PER_HOUR: int(20),
  GROUP_MEMBERS_ADDED_PER_HOUR: int(2000),
  GROUP_ADD_POLICY: z.enum(['anyone', 'contacts']).default('anyone'),
  CALL_RING_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
  CALL_RECONNECT_GRACE_MS: int(10_000),
  CALL_SWEEP_INTERVAL: durationSeconds.default(5),
  CALL_REQUESTS_PER_MINUTE: int(20),
  CALL_SIGNALING_PER_MINUTE: int(1200),
  GROUP_CALL_MESH_MAX: z.coerce.number().int().min(2).default(4),
  GROUP_CALL_MAX_PARTICIPANTS: z.coerce.number().int().min(2).default(16),
  GROUP_CALL_JOINS_PER_MINUTE: int(20),
  CALL_STATS_PER_MINUTE: int(30),
  STUN_URLS: iceUrls(/^stuns?:/, 'stun:').default(['stun:stun.l.google.com:19302']),
  TURN_URLS: iceUrls(/^turns?:/, 'turn:').default([]),
  TURN_SECRET: z.string().optional(),
  TURN_CREDENTIAL_TTL: durationSeconds.default(3600),
  JANUS_URL: z.url({ protocol: /^https?$/ }).optional(),
  JANUS_API_SECRET: z.string().optional(),
  JANUS_ADMIN_KEY: z.string().optional(),
  GROUP_CALL_TOPOLOGY: z.enum(['auto', 'sfu']).default('auto'),
  EXPO_ACCESS_TOKEN: z.string().optional(),
  PUSH_PREVIEW: z.stringbool().default(true),
  PUSH_POLL_MS: z.coerce.number().int().positive().default(1000),
  PUSH_COALESCE_MS: int(1000),
  PUSH_RECEIPT_DELAY: durationSeconds.default(15 * 60),
  PUSH_MAX_PER_SECOND: z.coerce.number().int().positive().default(600),
  E2EE_ONE_TIME_PREKEYS_MAX: z.coerce.number().int().positive().default(500),
  E2EE_PREKEYS_LOW_THRESHOLD: int(20),
  E2EE_KEY_UPLOADS_PER_MINUTE: int(30),
  E2EE_KEY_CLAIMS_PER_MINUTE: int(120),
  E2EE_TO_DEVICE_PER_MINUTE: int(120),
  E2EE_TO_DEVICE_MAX_PENDING: z.coerce.number().int().positive().default(1000),
  MEDIA_STORE: z.enum(['local', 's3']).default('local'),
  MEDIA_DIR: z.string().min(1).optional(),
  MEDIA_S3_BUCKET: z.string().min(1).optional(),
  MEDIA_S3_REGION: z.string().min(1).default('us-east-1'),
  MEDIA_S3_ENDPOINT: z.url({ protocol: /^https?$/ }).optional(),
  MEDIA_S3_ACCESS_KEY_ID: z.string().min(1).optional(),
  MEDIA_S3_SECRET_ACCESS_KEY: z.string().min(1).optional(),
  MEDIA_S3_FORCE_PATH_STYLE: z.stringbool().default(false),
  MEDIA_MAX_IMAGE_BYTES: z.coerce.number().int().positive().default(20 * MIB),
  MEDIA_MAX_AUDIO_BYTES: z.coerce.number().int().positive().default(50 * MIB),
  MEDIA_MAX_VIDEO_BYTES: z.coerce.number().int().positive().default(100 * MIB),
  MEDIA_MAX_FILE_BYTES: z.coerce.number().int().positive().default(50 * MIB),
  MEDIA_IMAGE_MAX_PIXELS: z.coerce.number().int().positive().default(50_000_000),
  MEDIA_QUOTA_BYTES: z.coerce.number().int().positive().default(2 * 1024 * MIB),
  MEDIA_UPLOADS_PER_DAY: int(500),
  MEDIA_UPLOAD_REQUESTS_PER_MINUTE: int(30),
  MEDIA_URL_TTL: durationSeconds.default(5 * 60),
  MEDIA_ORPHAN_TTL: durationSeconds.default(86400),
  MEDIA_CLEANUP_INTERVAL: durationSeconds.default(10 * 60),
  // Whole days, at most a hundred years; 0 keeps every entry.
  AUDIT_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(180),
  AUDIT_CLEANUP_INTERVAL: durationSeconds.default(3600),
  METRICS_TOKEN: z.string().optional(),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  METRICS_HOST: z.string().min(1).optional(),
  SLOW_QUERY_MS: int(200),
});

type Env = z.infer<typeof envSchema>;

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Origins a browser may call from in development when CORS_ORIGINS is not set. */
const DEV_ORIGINS = [/^https?:\/\/(localhost|127\.0\.0\.1|\[::1\])(:\d+)?$/];

export interface Config {
  env: Env['NODE_ENV'];
  port: number;
  host: string;
  dataDir: string;
  /** The built demo web app, served at /demo. */
  demoDir: string;
  /** The built admin dashboard, served at /admin. */
  adminDir: string;
  databaseUrl: string | undefined;
  /** MongoDB instead of PostgreSQL (never both), and how long start-up and each operation look for its server. */
  mongo: { uri: string; serverSelectionTimeoutMs: number } | undefined;
  redisUrl: string | undefined;
  /** Every Redis key and channel of this deployment starts with it, so several can share one Redis. */
  redisPrefix: string;
  /** With Redis: a process silent this long counts as dead, and its users' connections are discounted. */
  presenceProcessTtlMs: number;
  jwt: {
    /** Undefined until resolved by resolveJwtSecret (development generates and keeps one). */
    secret: string | undefined;
    issuer: string;
    audience: string;
    accessTtlSeconds: number;
    refreshTtlSeconds: number;
  };
  /** Password hashes and checks running at once. */
  passwordHashConcurrency: number;
  corsOrigins: (string | RegExp)[];
  trustProxy: boolean | number | string;
  log: { level: Env['LOG_LEVEL']; pretty: boolean };
  rateLimit: {
    windowSeconds: number;
    authPerIp: number;
    /** Failed logins per account and IP. */
    loginFailuresPerAccount: number;
    /** Failed logins per account from all IPs together: the ceiling a distributed guesser meets. */
    loginFailuresPerAccountTotal: number;
    peopleSearchesPerMinute: number;
  };
  sessions: {
    /** How often expired and revoked sessions (and their refresh tokens) are deleted. */
    cleanupIntervalSeconds: number;
    /** How long an expired or revoked session is kept (listed nowhere, kept for investigations). */
    retentionSeconds: number;
    /** How often each process reads the account-events feed (bans and revocations from anywhere). */
    accountEventsPollMs: number;
  };
  shutdownTimeoutMs: number;
  realtime: {
    maxConnectionsPerUser: number;
    /** Per-socket budgets over `rateWindowSeconds`: events of any kind, and bytes received. */
    rateWindowSeconds: number;
    eventsPerWindow: number;
    bytesPerWindow: number;
    /** Events of one socket being handled at once; beyond it an event is refused at once. */
    maxPendingEvents: number;
    /** Bytes waiting to be sent to one socket before the server gives up on it (a client that stopped reading). */
    maxBufferedBytes: number;
  };
  /** Per-user budgets on the socket: messages, typing events (start and stop together), receipts, presence. */
  chat: {
    rateWindowSeconds: number;
    messagesPerWindow: number;
    typingPerWindow: number;
    receiptsPerWindow: number;
    /** Edits and deletes together. */
    changesPerWindow: number;
    /** Reactions added and removed together. */
    reactionsPerWindow: number;
    presenceSubscribesPerMinute: number;
    /** How long after sending its sender may edit a message, and delete it for everyone. */
    editWindowSeconds: number;
    deleteWindowSeconds: number;
    /** Different emoji one user may have on one message. */
    reactionsPerUser: number;
  };
  /** Per-user budgets of blocking (blocks and unblocks together) and of abuse reports. */
  safety: { blockChangesPerHour: number; reportsPerHour: number };
  groups: {
    /** Members a group may have, its owner included. */
    maxMembers: number;
    /** Groups one user may create per hour, and users one user may add to groups per hour (creation included). */
    createdPerHour: number;
    membersAddedPerHour: number;
    /** Who may be added to a group by whom (src/groups/member-add-policy.ts). */
    addPolicy: 'anyone' | 'contacts';
  };
  calls: {
    ringTimeoutMs: number;
    reconnectGraceMs: number;
    /** How often each process looks for the calls and devices of processes that died. */
    sweepIntervalSeconds: number;
    /** CALL_REQUESTs one user may place per minute, all devices together. */
    requestsPerMinute: number;
    /** Every other call event (answers, hang-ups, ICE candidates, renegotiation) per user per minute. */
    signalingPerMinute: number;
    stunUrls: string[];
    turnUrls: string[];
    /** coturn's static-auth-secret; TURN is handed out only with it. */
    turnSecret: string | undefined;
    turnCredentialTtlSeconds: number;
  };
  groupCalls: {
    /** Participants a mesh call (every pair connected directly) holds at most. */
    meshMax: number;
    /** Participants any group call holds at most, whatever its topology. */
    maxParticipants: number;
    /** CALL_JOINs one user may send per minute, all devices together: bounds join/leave churn. */
    joinsPerMinute: number;
  };
  /** CALL_STATS and POST /api/call/:id/stats one user may send per minute, all devices together. */
  callQuality: { statsPerMinute: number };
  /** Janus, the SFU for group calls (src/calls/sfu/); undefined without JANUS_URL (group calls are mesh only). */
  sfu:
    | {
        /** Janus's HTTP transport, e.g. http://127.0.0.1:8088/janus. */
        janusUrl: string;
        /** Janus's api_secret: every request carries it. */
        apiSecret: string;
        /** The videoroom plugin's admin_key, if Janus has one: only holders may create rooms. */
        adminKey: string | undefined;
        /** `auto`: mesh up to GROUP_CALL_MESH_MAX participants, Janus beyond; `sfu`: every group call through Janus. */
        topology: 'auto' | 'sfu';
      }
    | undefined;
  push: {
    /** Expo's access token for projects with enhanced push security; optional. */
    expoAccessToken: string | undefined;
    /** Message text in the notification; false shows "New message" only. */
    preview: boolean;
    /** How often the worker looks for due pushes when nothing woke it. */
    pollMs: number;
    /** How long a message push waits for more messages of the same conversation to merge with. */
    coalesceMs: number;
    /** How long after sending Expo's receipt is fetched (Expo suggests about 15 minutes). */
    receiptDelaySeconds: number;
    /** Pushes sent per second at most (Expo's documented per-project rate is 600). */
    maxPerSecond: number;
  };
  e2ee: {
    /** One-time prekeys one device may hold. */
    oneTimePreKeysMax: number;
    /** Below this many one-time prekeys left a device gets E2EE_PREKEYS_LOW. */
    preKeysLowThreshold: number;
    /** Device registrations and prekey uploads and replacements per user per minute. */
    uploadsPerMinute: number;
    /** Device lists and bundle claims per user per minute (claims drain other people's keys). */
    claimsPerMinute: number;
    /** To-device send requests per user per minute. */
    toDevicePerMinute: number;
    /** To-device messages queued for one device at most (until it acknowledges them). */
    toDeviceMaxPending: number;
  };
  media: MediaConfig;
  audit: {
    /** Entries older than this many days are deleted; 0 keeps them all. */
    retentionDays: number;
    /** How often the deletion runs. */
    cleanupIntervalSeconds: number;
  };
  metrics: MetricsConfig;
}

/** Where GET /metrics answers, and what it takes. */
export interface MetricsConfig {
  /** Bearer token every scrape must present, wherever /metrics is served. */
  token: string | undefined;
  /** A server of its own for /metrics (loopback unless METRICS_HOST says otherwise), instead of the app's port. */
  server: { port: number; host: string } | undefined;
  /** Served on the app's port: with a token, or outside production. */
  onMainPort: boolean;
  /** Storage operations slower than this are logged. */
  slowQueryMs: number;
}

/** Where media blobs are kept: a directory on the local disk, or an S3-compatible bucket. */
export type MediaStoreConfig =
  | { kind: 'local'; dir: string }
  | {
      kind: 's3';
      bucket: string;
      region: string;
      /** A non-AWS service (MinIO, Ceph, R2, ...); undefined for AWS itself. */
      endpoint: string | undefined;
      /** Static keys; undefined: the AWS SDK's default credential chain (environment, instance role, ...). */
      credentials: { accessKeyId: string; secretAccessKey: string } | undefined;
      /** `endpoint/bucket/key` URLs instead of `bucket.endpoint/key`, as MinIO-like services need. */
      forcePathStyle: boolean;
    };

export interface MediaConfig {
  store: MediaStoreConfig;
  /** Uploads are received here (then moved or copied into the store): on the local store's filesystem. */
  tempDir: string;
  /** Largest upload of each kind, in bytes; an end-to-end encrypted upload may be as large as the largest. */
  maxBytes: { image: number; audio: number; video: number; file: number };
  /** Images with more pixels than this are refused: a small file can decode to gigabytes. */
  imageMaxPixels: number;
  /** Bytes of media one user may keep stored at once. */
  quotaBytes: number;
  /** Uploads one user may make per 24 hours. */
  uploadsPerDay: number;
  /** Requests to the upload routes one user may make per minute. */
  uploadRequestsPerMinute: number;
  /** Lifetime of a signed download (or direct-upload) URL. */
  urlTtlSeconds: number;
  /** An upload never attached to a message is removed this long after it was made. */
  orphanTtlSeconds: number;
  /** How often removals are carried out (orphans, discarded media, deleted accounts' media). */
  cleanupIntervalSeconds: number;
}

function parseTrustProxy(value: string): boolean | number | string {
  if (value === 'true') return true;
  if (value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value;
}

/**
 * Reads and validates configuration from an environment once, at start-up. Throws a ConfigError that
 * names every bad variable.
 */
export function loadConfig(source: NodeJS.ProcessEnv): Config {
  // `NAME=` in a .env file or a shell means "not set", as for most tools.
  const present = Object.fromEntries(Object.entries(source).filter(([, value]) => value !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const env = parsed.data;
  if (env.MONGO_URI && env.DATABASE_URL) {
    throw new ConfigError('MONGO_URI and DATABASE_URL are both set: choose one database (MONGO_URI for MongoDB, DATABASE_URL for PostgreSQL) and unset the other');
  }
  if (env.NODE_ENV === 'production') {
    if (!env.JWT_SECRET || Buffer.byteLength(env.JWT_SECRET) < 32) {
      throw new ConfigError('JWT_SECRET: required in production and at least 32 bytes long');
    }
    if (!env.CORS_ORIGINS) {
      throw new ConfigError('CORS_ORIGINS: required in production (a comma-separated list of allowed origins)');
    }
  }
  if (env.TURN_URLS.length > 0 && !env.TURN_SECRET) {
    throw new ConfigError("TURN_SECRET: required with TURN_URLS (the TURN server's static-auth-secret)");
  }
  if (env.JANUS_URL && !env.JANUS_API_SECRET) {
    throw new ConfigError("JANUS_API_SECRET: required with JANUS_URL (Janus's api_secret)");
  }
  if (env.GROUP_CALL_TOPOLOGY === 'sfu' && !env.JANUS_URL) {
    throw new ConfigError('GROUP_CALL_TOPOLOGY: sfu needs JANUS_URL (and JANUS_API_SECRET)');
  }
  if (env.MEDIA_STORE === 's3' && !env.MEDIA_S3_BUCKET) {
    throw new ConfigError('MEDIA_S3_BUCKET: required with MEDIA_STORE=s3');
  }
  if (Boolean(env.MEDIA_S3_ACCESS_KEY_ID) !== Boolean(env.MEDIA_S3_SECRET_ACCESS_KEY)) {
    throw new ConfigError('MEDIA_S3_ACCESS_KEY_ID and MEDIA_S3_SECRET_ACCESS_KEY: give both, or neither (the AWS default credential chain)');
  }
  if (env.METRICS_TOKEN !== undefined && Buffer.byteLength(env.METRICS_TOKEN) < 16) {
    throw new ConfigError('METRICS_TOKEN: must be at least 16 bytes long');
  }
  if (env.METRICS_HOST !== undefined && env.METRICS_PORT === undefined) {
    throw new ConfigError('METRICS_HOST: only with METRICS_PORT (the address the metrics server binds)');
  }
  if (env.JWT_SECRET !== undefined && Buffer.byteLength(env.JWT_SECRET) < 32) {
    throw new ConfigError('JWT_SECRET: must be at least 32 bytes long');
  }
  return {
    env: env.NODE_ENV,
    port: env.PORT,
    host: env.HOST,
    dataDir: env.DATA_DIR,
    demoDir: env.DEMO_DIR,
    adminDir: env.ADMIN_DIR,
    databaseUrl: env.DATABASE_URL,
    mongo: env.MONGO_URI ? { uri: env.MONGO_URI, serverSelectionTimeoutMs: env.MONGO_SERVER_SELECTION_TIMEOUT_MS } : undefined,
    redisUrl: env.REDIS_URL,
    redisPrefix: env.REDIS_PREFIX,
    presenceProcessTtlMs: env.PRESENCE_PROCESS_TTL_MS,
    jwt: {
      secret: env.JWT_SECRET,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      accessTtlSeconds: env.JWT_ACCESS_TTL,
      refreshTtlSeconds: env.JWT_REFRESH_TTL,
    },
    passwordHashConcurrency: env.PASSWORD_HASH_CONCURRENCY,
    corsOrigins: env.CORS_ORIGINS ?? DEV_ORIGINS,
    trustProxy: parseTrustProxy(env.TRUST_PROXY),
    log: { level: env.LOG_LEVEL, pretty: env.LOG_PRETTY ?? (env.NODE_ENV === 'development' && Boolean(process.stdout.isTTY)) },
    rateLimit: {
      windowSeconds: env.RATE_LIMIT_WINDOW,
      authPerIp: env.RATE_LIMIT_AUTH_PER_IP,
      loginFailuresPerAccount: env.RATE_LIMIT_LOGIN_FAILURES,
      loginFailuresPerAccountTotal: env.RATE_LIMIT_LOGIN_FAILURES_ACCOUNT,
      peopleSearchesPerMinute: env.PEOPLE_SEARCHES_PER_MINUTE,
    },
    sessions: {
      cleanupIntervalSeconds: env.SESSION_CLEANUP_INTERVAL,
      retentionSeconds: env.SESSION_RETENTION,
      accountEventsPollMs: env.ACCOUNT_EVENTS_POLL_MS,
    },
    shutdownTimeoutMs: env.SHUTDOWN_TIMEOUT_MS,
    realtime: {
      maxConnectionsPerUser: env.SOCKET_MAX_CONNECTIONS_PER_USER,
      rateWindowSeconds: env.SOCKET_RATE_WINDOW,
      eventsPerWindow: env.SOCKET_EVENTS_PER_WINDOW,
      bytesPerWindow: env.SOCKET_BYTES_PER_WINDOW,
      maxPendingEvents: env.SOCKET_MAX_PENDING_EVENTS,
      maxBufferedBytes: env.SOCKET_MAX_BUFFERED_BYTES,
    },
    chat: {
      rateWindowSeconds: env.CHAT_RATE_WINDOW,
      messagesPerWindow: env.CHAT_MESSAGES_PER_WINDOW,
      typingPerWindow: env.CHAT_TYPING_PER_WINDOW,
      receiptsPerWindow: env.CHAT_RECEIPTS_PER_WINDOW,
      changesPerWindow: env.CHAT_CHANGES_PER_WINDOW,
      reactionsPerWindow: env.CHAT_REACTIONS_PER_WINDOW,
      presenceSubscribesPerMinute: env.PRESENCE_SUBSCRIBES_PER_MINUTE,
      editWindowSeconds: env.MESSAGE_EDIT_WINDOW,
      deleteWindowSeconds: env.MESSAGE_DELETE_WINDOW,
      reactionsPerUser: env.MESSAGE_REACTIONS_PER_USER,
    },
    safety: { blockChangesPerHour: env.BLOCK_CHANGES_PER_HOUR, reportsPerHour: env.ABUSE_REPORTS_PER_HOUR },
    groups: {
      maxMembers: env.GROUP_MAX_MEMBERS,
      createdPerHour: env.GROUPS_CREATED_PER_HOUR,
      membersAddedPerHour: env.GROUP_MEMBERS_ADDED_PER_HOUR,
      addPolicy: env.GROUP_ADD_POLICY,
    },
    calls: {
      ringTimeoutMs: env.CALL_RING_TIMEOUT_MS,
      reconnectGraceMs: env.CALL_RECONNECT_GRACE_MS,
      sweepIntervalSeconds: env.CALL_SWEEP_INTERVAL,
      requestsPerMinute: env.CALL_REQUESTS_PER_MINUTE,
      signalingPerMinute: env.CALL_SIGNALING_PER_MINUTE,
      stunUrls: env.STUN_URLS,
      turnUrls: env.TURN_URLS,
      turnSecret: env.TURN_SECRET,
      turnCredentialTtlSeconds: env.TURN_CREDENTIAL_TTL,
    },
    groupCalls: {
      meshMax: env.GROUP_CALL_MESH_MAX,
      maxParticipants: env.GROUP_CALL_MAX_PARTICIPANTS,
      joinsPerMinute: env.GROUP_CALL_JOINS_PER_MINUTE,
    },
    callQuality: { statsPerMinute: env.CALL_STATS_PER_MINUTE },
    sfu:
      env.JANUS_URL && env.JANUS_API_SECRET
        ? { janusUrl: env.JANUS_URL.replace(/\/+$/, ''), apiSecret: env.JANUS_API_SECRET, adminKey: env.JANUS_ADMIN_KEY, topology: env.GROUP_CALL_TOPOLOGY }
        : undefined,
    push: {
      expoAccessToken: env.EXPO_ACCESS_TOKEN,
      preview: env.PUSH_PREVIEW,
      pollMs: env.PUSH_POLL_MS,
      coalesceMs: env.PUSH_COALESCE_MS,
      receiptDelaySeconds: env.PUSH_RECEIPT_DELAY,
      maxPerSecond: env.PUSH_MAX_PER_SECOND,
    },
    e2ee: {
      oneTimePreKeysMax: env.E2EE_ONE_TIME_PREKEYS_MAX,
      preKeysLowThreshold: env.E2EE_PREKEYS_LOW_THRESHOLD,
      uploadsPerMinute: env.E2EE_KEY_UPLOADS_PER_MINUTE,
      claimsPerMinute: env.E2EE_KEY_CLAIMS_PER_MINUTE,
      toDevicePerMinute: env.E2EE_TO_DEVICE_PER_MINUTE,
      toDeviceMaxPending: env.E2EE_TO_DEVICE_MAX_PENDING,
    },
    media: mediaConfig(env),
    audit: { retentionDays: env.AUDIT_RETENTION_DAYS, cleanupIntervalSeconds: env.AUDIT_CLEANUP_INTERVAL },
    metrics: {
      token: env.METRICS_TOKEN,
      server: env.METRICS_PORT === undefined ? undefined : { port: env.METRICS_PORT, host: env.METRICS_HOST ?? '127.0.0.1' },
      onMainPort: env.METRICS_PORT === undefined && (env.METRICS_TOKEN !== undefined || env.NODE_ENV !== 'production'),
      slowQueryMs: env.SLOW_QUERY_MS,
    },
  };
}

function mediaConfig(env: Env): MediaConfig {
  const dir = env.MEDIA_DIR ?? path.join(env.DATA_DIR, 'media');
  const store: MediaStoreConfig =
    env.MEDIA_STORE === 's3'
      ? {
          kind: 's3',
          bucket: env.MEDIA_S3_BUCKET!,
          region: env.MEDIA_S3_REGION,
          endpoint: env.MEDIA_S3_ENDPOINT,
          credentials:
            env.MEDIA_S3_ACCESS_KEY_ID && env.MEDIA_S3_SECRET_ACCESS_KEY
              ? { accessKeyId: env.MEDIA_S3_ACCESS_KEY_ID, secretAccessKey: env.MEDIA_S3_SECRET_ACCESS_KEY }
              : undefined,
          forcePathStyle: env.MEDIA_S3_FORCE_PATH_STYLE,
        }
      : { kind: 'local', dir };
  return {
    store,
    tempDir: path.join(dir, 'tmp'),
    maxBytes: { image: env.MEDIA_MAX_IMAGE_BYTES, audio: env.MEDIA_MAX_AUDIO_BYTES, video: env.MEDIA_MAX_VIDEO_BYTES, file: env.MEDIA_MAX_FILE_BYTES },
    imageMaxPixels: env.MEDIA_IMAGE_MAX_PIXELS,
    quotaBytes: env.MEDIA_QUOTA_BYTES,
    uploadsPerDay: env.MEDIA_UPLOADS_PER_DAY,
    uploadRequestsPerMinute: env.MEDIA_UPLOAD_REQUESTS_PER_MINUTE,
    urlTtlSeconds: env.MEDIA_URL_TTL,
    orphanTtlSeconds: env.MEDIA_ORPHAN_TTL,
    cleanupIntervalSeconds: env.MEDIA_CLEANUP_INTERVAL,
  };
}
