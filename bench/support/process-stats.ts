import { monitorEventLoopDelay } from 'node:perf_hooks';

export interface EventLoopDelay {
  p50: number;
  p99: number;
  max: number;
}

/**
 * Answers the benchmark over IPC: 'eventLoop' -> the event-loop delay since the last ask (the histogram
 * then starts again), 'rss' -> this process's resident set size in bytes, 'cpu' -> the CPU time its
 * threads have used so far, in microseconds. Used by the server and the relay alike.
 */
export function serveProcessStats(): void {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  process.on('message', (message) => {
    if (message === 'eventLoop') {
      const delay: EventLoopDelay = { p50: ms(histogram.percentile(50)), p99: ms(histogram.percentile(99)), max: ms(histogram.max) };
      process.send?.({ eventLoop: delay });
      histogram.reset();
    } else if (message === 'rss') {
      process.send?.({ rss: process.memoryUsage.rss() });
    } else if (message === 'cpu') {
      const { user, system } = process.cpuUsage();
      process.send?.({ cpu: user + system });
    }
  });
}
