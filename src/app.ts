import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server as SocketServer } from 'socket.io';
import type { Express } from 'express';
import { createAdminAppRouter } from './admin/admin-app-routes.js';
import { LiveFigures } from './admin/live-figures.js';
import { createLiveRouter } from './admin/live-routes.js';
import { createDocsRouter } from './api-docs/docs-routes.js';
import { describeBudgets } from './api-docs/event-reference.js';
import { createAuditCleanup } from './audit/audit-cleanup.js';
import { AuditLog } from './audit/audit-log.js';
import { createAuditRouter } from './audit/audit-routes.js';
import { AccountEventsFeed } from './auth/account-events-feed.js';
import { createAccessTokens } from './auth/access-tokens.js';
import { createAuthRouter } from './auth/auth-routes.js';
import { AuthService } from './auth/auth-service.js';
import { Authenticator } from './auth/authenticator.js';
import { Passwords } from './auth/passwords.js';
import { createSessionCleanup } from './auth/session-cleanup.js';
import { createCallQualityAdminRouter, createCallQualityRouter } from './call-quality/call-quality-routes.js';
import { CallQualityService } from './call-quality/call-quality-service.js';
import { registerCallQualityEvents } from './call-quality/call-quality-socket.js';
import { callHistory } from './calls/call-history.js';
import { createCallRouter } from './calls/call-routes.js';
import { CallService } from './calls/call-service.js';
import { registerCallEvents } from './calls/call-socket.js';
import { GroupCallService, type GroupCallTimer } from './calls/group-call-service.js';
import { MeshTopology } from './calls/mesh-topology.js';
import { createJanusRooms } from './calls/sfu/janus-rooms.js';
import { SfuTopology } from './calls/sfu-topology.js';
import { RoutedSfuTopology } from './calls/routed-sfu-topology.js';
import { ChatReader } from './chat/chat-reader.js';
import { createChatRouter } from './chat/chat-routes.js';
import { ChatService } from './chat/chat-service.js';
import { registerChatEvents } from './chat/chat-socket.js';
import { ConversationAccess } from './chat/conversation-access.js';
import { MessageActions } from './chat/message-actions.js';
import { registerConversationRooms } from './chat/conversation-rooms.js';
import type { Config } from './config/config.js';
import { resolveJwtSecret } from './config/jwt-secret.js';
import { createGroupRouter } from './groups/group-routes.js';
import { GroupService } from './groups/group-service.js';
import { memberAddPolicy } from './groups/member-add-policy.js';
import { createDemoRouter } from './demo/demo-routes.js';
import { createHealthRouter } from './health/health-routes.js';
import { requireAuth } from './http/authenticate.js';
import { drainAcceptQueue } from './http/accept-queue.js';
import { createHttpApp } from './http/http-app.js';
import { createKeysRouter } from './keys/keys-routes.js';
import { KeysService } from './keys/keys-service.js';
import { ToDeviceService } from './keys/to-device-service.js';
import { createRateLimits } from './http/rate-limits.js';
import { createLocalBlobRouter } from './media/local-blob-routes.js';
import { LocalBlobStore } from './media/local-blob-store.js';
import { createMediaCleanup } from './media/media-cleanup.js';
import { createMediaRouter } from './media/media-routes.js';
import { MediaService } from './media/media-service.js';
import { UrlSigner } from './media/url-signer.js';
import { createAppMetrics } from './metrics/app-metrics.js';
import { createMetricsRouter } from './metrics/metrics-routes.js';
import { ExpoPushClient } from './push/expo-push-client.js';
import { AbuseReportService } from './safety/abuse-report-service.js';
import { BlockService } from './safety/block-service.js';
import { KnownBlocks } from './safety/known-blocks.js';
import { createBlockRouter, createReportRouters } from './safety/safety-routes.js';
import { PushNotifier } from './push/push-notifier.js';
import { PushWorker } from './push/push-worker.js';
import { createSocketDelivery } from './realtime/delivery.js';
import { createEventBudgets } from './realtime/event-budgets.js';
import { createRealtimeServer } from './realtime/realtime-server.js';
import { createDomainEvents } from './shared/domain-events.js';
import { periodicTask } from './shared/periodic.js';
import type { Logger } from './shared/logger.js';
import type { ScaleOut } from './scale-out/scale-out.js';
import { singleProcess } from './scale-out/single-process.js';
import type { Storage } from './storage/ports.js';
import { openStorage } from './storage/open-storage.js';
import { withOperationTiming } from './storage/timing-layer.js';
import { AccountAdminService } from './users/account-admin-service.js';
import { AccountDirectory } from './users/account-directory.js';
import { createAdminRouter } from './users/admin-routes.js';
import { PeopleService } from './users/people-service.js';
import { createPeopleRouter } from './users/people-routes.js';
import { registerPresenceEvents } from './users/presence-socket.js';

export interface App {
  httpServer: Server;
  /** The Socket.io server, attached to httpServer (a cluster worker hands it connections: see cluster.ts). */
  io: SocketServer;
  /** The Express app the server hands requests to (the API reference's tests read its routes). */
  http: Express;
  storage: Storage;
  media: MediaService;
  /** The server of /metrics alone, with METRICS_PORT (listening once started). */
  metricsServer: Server | undefined;
  /**
   * Listens on config.port (0 = any free port) and resolves with the port; with `listen: false` it only
   * starts the background work, for a process whose connections are handed to it (resolves with 0).
   */
  start(options?: { listen?: boolean }): Promise<number>;
  /** Stops accepting, lets in-flight work finish (bounded), then closes the database. */
  stop(): Promise<void>;
}

/** Redis when REDIS_URL is set (loaded only then), else this process's memory. */
async function openScaleOut(config: Config, logger: Logger, processId: string): Promise<ScaleOut> {
  if (!config.redisUrl) return singleProcess();
  const { redisScaleOut } = await import('./scale-out/redis-scale-out.js');
  return redisScaleOut({ url: config.redisUrl, prefix: config.redisPrefix, logger, presenceProcessTtlMs: config.presenceProcessTtlMs, processId });
}

/** The composition root: builds every adapter, service and transport from one config. */
export async function createApp(config: Config, logger: Logger): Promise<App> {
  const secret = await resolveJwtSecret(config, logger);
  const metrics = createAppMetrics({ logger, slowQueryMs: config.metrics.slowQueryMs });
  const storage = withOperationTiming(await openStorage(config, logger), metrics.operationTimer);
  const events = createDomainEvents();
  const scaleOut = await openScaleOut(config, logger, storage.processes.id);
  scaleOut.relay(events);
  const accessTokens = createAccessTokens({
    secret,
    issuer: config.jwt.issuer,
    audience: config.jwt.audience,
    ttlSeconds: config.jwt.accessTtlSeconds,
  });
  const authenticator = new Authenticator(accessTokens, storage, events);
  const audit = new AuditLog({ store: storage.audit, logger });
  const auditCleanup = createAuditCleanup({
    store: storage.audit,
    logger,
    intervalSeconds: config.audit.cleanupIntervalSeconds,
    retentionDays: config.audit.retentionDays,
  });
  const auth = new AuthService({
    storage,
    accessTokens,
    passwords: new Passwords({ concurrency: config.passwordHashConcurrency }),
    events,
    audit,
    accessTtlSeconds: config.jwt.accessTtlSeconds,
    refreshTtlSeconds: config.jwt.refreshTtlSeconds,
  });
  const accounts = new AccountAdminService(storage, events, audit);
  const authenticated = requireAuth(authenticator);
  const sessionCleanup = createSessionCleanup({
    sessions: storage.sessions,
    logger,
    intervalSeconds: config.sessions.cleanupIntervalSeconds,
    retentionSeconds: config.sessions.retentionSeconds,
  });
  const pushWorker = new PushWorker({
    store: storage.pushOutbox,
    sender: new ExpoPushClient({ accessToken: config.push.expoAccessToken }),
    logger,
    pollMs: config.push.pollMs,
    receiptDelaySeconds: config.push.receiptDelaySeconds,
    maxPerSecond: config.push.maxPerSecond,
  });
  const accountEvents = new AccountEventsFeed({ feed: storage.accountEvents, events, logger, pollMs: config.sessions.accountEventsPollMs });

  const budgets = createEventBudgets(config, scaleOut.budget);
  // The services need Socket.io to deliver, so it is built first and attached to the HTTP server last:
  // attaching wraps the server's request handler (Express), so Socket.io's own paths never reach Express.
  const realtime = createRealtimeServer({
    authenticator,
    events,
    logger,
    corsOrigins: config.corsOrigins,
    budgets,
    limits: config.realtime,
    observeEvent: metrics.observeEvent,
  });
  scaleOut.attach(realtime.io);
  const delivery = createSocketDelivery(realtime.io);
  const { presence } = scaleOut;
  const people = new PeopleService({
    users: storage.users,
    contacts: storage.messages,
    presence,
    delivery,
    searchLimit: scaleOut.budget({ points: config.rateLimit.peopleSearchesPerMinute, windowSeconds: 60 }, 'searches'),
  });
  const knownBlocks = new KnownBlocks(storage.blocks, events);
  const access = new ConversationAccess({ messages: storage.messages, conversations: storage.conversations, users: storage.users, blocks: knownBlocks, delivery });
  const chat = new ChatService({ messages: storage.messages, conversations: storage.conversations, access, delivery, events });
  const actions = new MessageActions({
    messages: storage.messages,
    access,
    events,
    editWindowSeconds: config.chat.editWindowSeconds,
    deleteWindowSeconds: config.chat.deleteWindowSeconds,
    reactionsPerUser: config.chat.reactionsPerUser,
  });
  const reader = new ChatReader({
    messages: storage.messages,
    conversations: storage.conversations,
    chatChanges: storage.chatChanges,
    users: storage.users,
    people,
  });
  const hourly = (points: number, what: string) => scaleOut.budget({ points, windowSeconds: 3600 }, what);
  const blocks = new BlockService({ blocks: storage.blocks, users: storage.users, delivery, events, changes: hourly(config.safety.blockChangesPerHour, 'blocks and unblocks') });
  const reportRouters = createReportRouters({
    reports: new AbuseReportService({
      reports: storage.abuseReports,
      users: storage.users,
      messages: storage.messages,
      conversations: storage.conversations,
      budget: hourly(config.safety.reportsPerHour, 'reports'),
    }),
    requireAuth: authenticated,
  });
  const groups = new GroupService({
    conversations: storage.conversations,
    users: storage.users,
    blocks: storage.blocks,
    delivery,
    events,
    audit,
    policy: memberAddPolicy(config.groups.addPolicy, storage.messages),
    maxMembers: config.groups.maxMembers,
    creations: hourly(config.groups.createdPerHour, 'groups created'),
    additions: hourly(config.groups.membersAddedPerHour, 'members added'),
  });
  const perMinute = (points: number, what: string) => scaleOut.budget({ points, windowSeconds: 60 }, what);
  const keys = new KeysService({
    keys: storage.deviceKeys,
    users: storage.users,
    delivery,
    events,
    logger,
    uploads: perMinute(config.e2ee.uploadsPerMinute, 'key uploads'),
    claims: perMinute(config.e2ee.claimsPerMinute, 'key lookups'),
    oneTimePreKeysMax: config.e2ee.oneTimePreKeysMax,
    preKeysLowThreshold: config.e2ee.preKeysLowThreshold,
  });
  const toDevice = new ToDeviceService({
    keys: storage.deviceKeys,
    delivery,
    sends: perMinute(config.e2ee.toDevicePerMinute, 'to-device sends'),
    maxPending: config.e2ee.toDeviceMaxPending,
  });
  registerPresenceEvents(realtime, people);
  registerConversationRooms(realtime, { conversations: storage.conversations, events, logger });
  registerChatEvents(realtime, chat, actions);
  const { liveCalls: directLiveCalls, liveGroupCalls } = scaleOut;
  const calls = new CallService({
    calls: storage.calls,
    users: storage.users,
    blocks: knownBlocks,
    live: directLiveCalls,
    processes: storage.processes,
    groupCalls: liveGroupCalls,
    presence,
    timers: scaleOut.callTimers('call'),
    queue: scaleOut.serializer('call'),
    delivery,
    events,
    logger,
    ringTimeoutMs: config.calls.ringTimeoutMs,
    reconnectGraceMs: config.calls.reconnectGraceMs,
  });
  await calls.sweep();
  // Janus lost (or a room it would not make) ends the calls on it; groupCalls exists before any room does.
  const callsLost = (callIds: string[]) => void groupCalls.mediaServerLost(callIds);
  const sfu =
    config.sfu &&
    new RoutedSfuTopology({
      local: new SfuTopology({
        rooms: createJanusRooms({ url: config.sfu.janusUrl, apiSecret: config.sfu.apiSecret, adminKey: config.sfu.adminKey, logger, onLost: ({ callIds }) => callsLost(callIds) }),
        live: liveGroupCalls,
        delivery,
        logger,
        maxParticipants: config.groupCalls.maxParticipants,
        callsLost,
      }),
      holders: scaleOut.claims('sfu-room'),
      requests: scaleOut.requests,
      processes: storage.processes,
      callsLost,
      logger,
    });
  const groupCalls = new GroupCallService({
    groupCalls: storage.groupCalls,
    conversations: storage.conversations,
    users: storage.users,
    directCalls: directLiveCalls,
    live: liveGroupCalls,
    processes: storage.processes,
    timers: scaleOut.callTimers<GroupCallTimer>('group-call'),
    queue: scaleOut.serializer('group-call'),
    topologies: { mesh: new MeshTopology(delivery, config.groupCalls.meshMax), sfu, sfuForEveryCall: config.sfu?.topology === 'sfu' },
    delivery,
    events,
    logger,
    ringTimeoutMs: config.calls.ringTimeoutMs,
    reconnectGraceMs: config.calls.reconnectGraceMs,
    maxParticipants: config.groupCalls.maxParticipants,
  });
  await groupCalls.sweep();
  const callSweep = periodicTask(
    config.calls.sweepIntervalSeconds,
    async () => {
      await calls.sweep();
      await groupCalls.sweep();
    },
    (error) => logger.error({ err: error }, 'could not sweep the calls of stopped processes'),
  );
  registerCallEvents(realtime, calls, groupCalls, storage.processes.id);
  const callQuality = new CallQualityService({ store: storage.callQuality, calls: storage.calls, groupCalls: storage.groupCalls, events });
  registerCallQualityEvents(realtime, callQuality);
  const pushNotifier = new PushNotifier({
    events,
    store: storage.pushOutbox,
    worker: pushWorker,
    messages: storage.messages,
    conversations: storage.conversations,
    presence,
    users: storage.users,
    logger,
    preview: config.push.preview,
    coalesceMs: config.push.coalesceMs,
  });

  const mediaConfig = config.media;
  await mkdir(mediaConfig.tempDir, { recursive: true });
  const signer = new UrlSigner(secret);
  const blobStore = mediaConfig.store;
  const localBlobs = blobStore.kind === 'local' ? new LocalBlobStore(path.join(blobStore.dir, 'blobs'), signer) : undefined;
  const media = new MediaService({
    store: storage.media,
    // The AWS SDK is loaded only when S3 is configured (it costs a process about 27 MB).
    blobs: blobStore.kind === 's3' ? new (await import('./media/s3-blob-store.js')).S3BlobStore(blobStore) : localBlobs!,
    events,
    logger,
    config: mediaConfig,
  });
  const mediaCleanup = createMediaCleanup({
    media,
    store: storage.media,
    tempDir: mediaConfig.tempDir,
    logger,
    intervalSeconds: mediaConfig.cleanupIntervalSeconds,
    orphanTtlSeconds: mediaConfig.orphanTtlSeconds,
  });
  const liveFigures = new LiveFigures({
    presence,
    liveCalls: directLiveCalls,
    liveGroupCalls,
    messages: storage.messages,
    sockets: () => realtime.io.of('/').sockets.size,
  });
  metrics.watch({ events, connectedSockets: () => realtime.io.of('/').sockets.size, pushCounts: () => pushWorker.counts });
  const metricsRouter = createMetricsRouter({ registry: metrics.registry, token: config.metrics.token });
  const metricsServer =
    config.metrics.server &&
    createServer(
      createHttpApp({ logger, corsOrigins: [], trustProxy: false, routes: [{ path: '/', router: metricsRouter }], observeResponse: metrics.observeResponse }),
    );
  const rateLimits = createRateLimits({ ...config.rateLimit, mediaUploadsPerMinute: mediaConfig.uploadRequestsPerMinute }, scaleOut.httpRateLimitStore);

  const http = createHttpApp({
    logger,
    corsOrigins: config.corsOrigins,
    trustProxy: config.trustProxy,
    observeResponse: metrics.observeResponse,
    routes: [
      { path: '/', router: createHealthRouter(storage, scaleOut) },
      { path: '/demo', router: createDemoRouter(config.demoDir) },
      { path: '/admin', router: createAdminAppRouter(config.adminDir) },
      { path: '/', router: createDocsRouter({ budgets: describeBudgets(config) }) },
      { path: '/api/auth', router: createAuthRouter({ auth, requireAuth: authenticated, rateLimits }) },
      // More specific first: the admin router answers FORBIDDEN for every path it is mounted on.
      { path: '/api/admin/reports', router: reportRouters.admin },
      { path: '/api/admin/live', router: createLiveRouter({ figures: liveFigures, requireAuth: authenticated }) },
      { path: '/api/admin/audit', router: createAuditRouter({ audit, requireAuth: authenticated }) },
      { path: '/api/admin/call-quality', router: createCallQualityAdminRouter({ quality: callQuality, requireAuth: authenticated }) },
      {
        path: '/api/admin',
        router: createAdminRouter({ accounts, directory: new AccountDirectory({ users: storage.users, sessions: storage.sessions, presence }), requireAuth: authenticated }),
      },
      { path: '/api/chat', router: createChatRouter({ reader, groups: createGroupRouter({ groups, reader }), requireAuth: authenticated }) },
      { path: '/api/users', router: createPeopleRouter({ people, requireAuth: authenticated }) },
      { path: '/api/blocks', router: createBlockRouter({ blocks, requireAuth: authenticated }) },
      { path: '/api/reports', router: reportRouters.reports },
      { path: '/api/keys', router: createKeysRouter({ keys, toDevice, requireAuth: authenticated }) },
      ...(localBlobs ? [{ path: '/api/media/blob', router: createLocalBlobRouter({ store: localBlobs, signer }) }] : []),
      {
        path: '/api/media',
        router: createMediaRouter({
          media,
          limits: { maxBytes: mediaConfig.maxBytes, tempDir: mediaConfig.tempDir },
          uploadRate: rateLimits.mediaUploads,
          requireAuth: authenticated,
        }),
      },
      { path: '/api/call', router: createCallQualityRouter({ quality: callQuality, reports: budgets.CALL_STATS, requireAuth: authenticated }) },
      {
        path: '/api/call',
        router: createCallRouter({
          history: (userId, query) => callHistory(storage, userId, query, new Date()),
          iceServers: config.calls,
          requireAuth: authenticated,
        }),
      },
      ...(config.metrics.onMainPort ? [{ path: '/', router: metricsRouter }] : []),
    ],
  });
  const httpServer = createServer(http);
  realtime.io.attach(httpServer);

  return {
    httpServer,
    io: realtime.io,
    http,
    storage,
    media,
    metricsServer,
    async start({ listen = true } = {}) {
      const startWork = () => {
        accountEvents.start();
        // createApp swept once already, before anything could connect.
        callSweep.start({ runNow: false });
        presence.start(people.changes);
        sessionCleanup.start();
        pushNotifier.start();
        pushWorker.start();
        media.start();
        mediaCleanup.start();
        auditCleanup.start();
      };
      // A cluster worker (listen: false) serves its own metrics too: see cluster.ts.
      if (metricsServer && config.metrics.server) await listenOn(metricsServer, config.metrics.server.port, config.metrics.server.host);
      if (!listen) {
        startWork();
        return 0;
      }
      await listenOn(httpServer, config.port, config.host);
      startWork();
      return (httpServer.address() as AddressInfo).port;
    },
    async stop() {
      // Connections still in the accept queue would be reset by the close: their requests get answered.
      await drainAcceptQueue(httpServer, config.shutdownTimeoutMs);
      const closed = new Promise<void>((resolve) => httpServer.close(() => resolve()));
      httpServer.closeIdleConnections();
      // A keep-alive connection that finishes its in-flight request would otherwise stay open until the
      // client's or the keep-alive timeout (seconds), holding up the close: close each as it turns idle.
      const idleSweep = setInterval(() => httpServer.closeIdleConnections(), 50);
      const deadline = setTimeout(() => httpServer.closeAllConnections(), config.shutdownTimeoutMs);
      await callSweep.stop();
      // Calls end while their parties' sockets are still connected, so both hear it.
      await calls.stop(config.shutdownTimeoutMs);
      await groupCalls.stop(config.shutdownTimeoutMs);
      await sfu?.close();
      await realtime.close(config.shutdownTimeoutMs);
      await closed;
      clearInterval(idleSweep);
      clearTimeout(deadline);
      await accountEvents.stop();
      await presence.stop();
      await sessionCleanup.stop();
      await mediaCleanup.stop();
      await auditCleanup.stop();
      await media.stop(config.shutdownTimeoutMs);
      await keys.stop(config.shutdownTimeoutMs);
      // The pushes of the calls just ended are queued before the worker's last cycle.
      await pushNotifier.stop(config.shutdownTimeoutMs);
      await pushWorker.stop();
      await scaleOut.close();
      await storage.close();
      if (metricsServer?.listening) {
        const metricsClosed = new Promise((resolve) => metricsServer.close(resolve));
        metricsServer.closeAllConnections();
        await metricsClosed;
      }
      metrics.registry.clear();
    },
  };
}

function listenOn(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}
