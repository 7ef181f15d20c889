import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ObservedResponse } from '../http/http-app.js';
import type { ClientToServerEvents } from '../protocol/events.js';
import type { PushCounts } from '../push/push-stats.js';
import type { DomainEvents } from '../shared/domain-events.js';
import type { Logger } from '../shared/logger.js';
import type { OperationTimer } from '../storage/timing-layer.js';

/** What the metrics read on every scrape, once the app has built it. */
export interface MetricSources {
  events: DomainEvents;
  /** Sockets connected to this process. */
  connectedSockets: () => number;
  /** The push worker's running totals. */
  pushCounts: () => Readonly<PushCounts>;
}

export interface AppMetrics {
  /** This app's metrics alone (never prom-client's global registry: one process may run several apps). */
  registry: Registry;
  observeResponse(response: ObservedResponse): void;
  observeEvent(event: keyof ClientToServerEvents, result: string): void;
  /** Times the storage port's operations, and logs those slower than the threshold. */
  operationTimer: OperationTimer;
  /** Starts counting what the sources tell. */
  watch(sources: MetricSources): void;
}

const PUSH_OUTCOMES = ['queued', 'sent', 'failed', 'retried', 'dropped'] as const satisfies readonly (keyof PushCounts)[];

/**
 * The metrics of one app, named `callapp_*` (prom-client's process and event-loop metrics keep their
 * standard names, which dashboards know). Every label takes a bounded set of values: route patterns,
 * catalogued event names, error codes, statuses and reasons.
 */
export function createAppMetrics(options: { logger: Logger; slowQueryMs: number }): AppMetrics {
  const registry = new Registry();
  const registers = [registry];
  collectDefaultMetrics({ register: registry });

  const httpDuration = new Histogram({
    name: 'callapp_http_request_duration_seconds',
    help: 'HTTP requests by method, route pattern and status, and how long each took to answer',
    labelNames: ['method', 'route', 'status'] as const,
    registers,
  });
  const socketEvents = new Counter({
    name: 'callapp_socket_events_total',
    help: 'Client socket events handled, by event and result (ok, or the error code of the answer)',
    labelNames: ['event', 'result'] as const,
    registers,
  });
  const operationDuration = new Histogram({
    name: 'callapp_db_operation_duration_seconds',
    help: 'Storage operations by repository and method, and how long each took',
    labelNames: ['repository', 'method'] as const,
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers,
  });

  const slowMs = options.slowQueryMs;
  const slowLog = options.logger.child({ component: 'storage' });
  const operationTimer: OperationTimer = (repository, method) => {
    const histogram = operationDuration.labels(repository, method);
    return (durationMs) => {
      histogram.observe(durationMs / 1000);
      if (durationMs >= slowMs) slowLog.warn({ repository, method, durationMs: Math.round(durationMs * 10) / 10 }, 'slow storage operation');
    };
  };

  return {
    registry,
    observeResponse: ({ method, route, status, seconds }) => httpDuration.labels(method, route, String(status)).observe(seconds),
    observeEvent: (event, result) => socketEvents.labels(event, result).inc(),
    operationTimer,
    watch(sources) {
      new Gauge({
        name: 'callapp_sockets_connected',
        help: 'Sockets connected to this process',
        registers,
        collect() {
          this.set(sources.connectedSockets());
        },
      });
      const messages = new Counter({
        name: 'callapp_chat_messages_stored_total',
        help: 'New chat messages stored, by conversation kind (direct or group)',
        labelNames: ['conversation'] as const,
        registers,
      });
      const callsEnded = new Counter({
        name: 'callapp_calls_ended_total',
        help: 'Calls that reached their final status, by kind (direct or group), status and end reason',
        labelNames: ['kind', 'status', 'reason'] as const,
        registers,
      });
      const callSetup = new Histogram({
        name: 'callapp_call_setup_seconds',
        help: 'From a call request to its (first) answer, by kind (direct or group)',
        labelNames: ['kind'] as const,
        buckets: [0.5, 1, 2, 3, 5, 8, 13, 20, 30, 45, 60],
        registers,
      });
      new Counter({
        name: 'callapp_push_notifications_total',
        help: 'Push notifications by outcome: queued, sent, failed, retried, dropped (expired before they could go)',
        labelNames: ['outcome'] as const,
        registers,
        collect() {
          const counts = sources.pushCounts();
          this.reset();
          for (const outcome of PUSH_OUTCOMES) this.inc({ outcome }, counts[outcome]);
        },
      });
      new Counter({
        name: 'callapp_push_tokens_removed_total',
        help: 'Push tokens removed because Expo said the device is no longer registered',
        registers,
        collect() {
          this.reset();
          this.inc(sources.pushCounts().tokensRemoved);
        },
      });
      const quality = {
        reports: new Counter({
          name: 'callapp_call_quality_reports_total',
          help: 'Call-quality reports stored, by the quality band of the estimate and whether a TURN relay carried the media',
          labelNames: ['band', 'relayed'] as const,
          registers,
        }),
        mos: new Histogram({ name: 'callapp_call_quality_mos', help: 'MOS estimates (E-model) of stored call-quality reports', buckets: [1, 2, 2.5, 3, 3.3, 3.6, 3.8, 4, 4.2, 4.4, 4.5], registers }),
        rtt: new Histogram({ name: 'callapp_call_quality_rtt_seconds', help: 'Round-trip times reported in call-quality reports', buckets: [0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5, 1, 2], registers }),
        jitter: new Histogram({ name: 'callapp_call_quality_jitter_seconds', help: 'Jitter reported in call-quality reports', buckets: [0.001, 0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2], registers }),
        loss: new Histogram({ name: 'callapp_call_quality_packet_loss_ratio', help: 'Packet loss (0 to 1) reported in call-quality reports', buckets: [0, 0.001, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5], registers }),
      };
      sources.events.on('callQualityReported', (report) => {
        quality.reports.inc({ band: report.band, relayed: String(report.relayed) });
        quality.mos.observe(report.mos);
        if (report.rttMs !== null) quality.rtt.observe(report.rttMs / 1000);
        if (report.jitterMs !== null) quality.jitter.observe(report.jitterMs / 1000);
        if (report.packetLossPct !== null) quality.loss.observe(report.packetLossPct / 100);
      });
      sources.events.on('messageStored', ({ recipientId }) => messages.inc({ conversation: recipientId === null ? 'group' : 'direct' }));
      sources.events.on('callEnded', ({ kind, call }) => callsEnded.inc({ kind, status: call.status, reason: call.endReason ?? 'none' }));
      sources.events.on('callAnswered', ({ kind, call }) => {
        if (call.answeredAt) callSetup.observe({ kind }, (call.answeredAt.getTime() - call.createdAt.getTime()) / 1000);
      });
    },
  };
}
