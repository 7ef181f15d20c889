import { callStatsPayload } from '../protocol/call-quality.js';
import type { RealtimeServer } from '../realtime/realtime-server.js';
import type { CallQualityService } from './call-quality-service.js';

/** CALL_STATS: a device's quality report of a call it is in, parsed, budgeted and acknowledged by realtime.handle. */
export function registerCallQualityEvents(realtime: RealtimeServer, quality: CallQualityService): void {
  realtime.onConnection((socket) => {
    const reporter = socket.data.principal;
    realtime.handle(socket, 'CALL_STATS', callStatsPayload, ({ callId, ...report }) => quality.report(reporter, callId, report));
  });
}
