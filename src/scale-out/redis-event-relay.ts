import type { Redis } from 'ioredis';
import { RELAYED_EVENTS, type DomainEventMap, type DomainEvents, type RelayedEvent } from '../shared/domain-events.js';
import { newId } from '../shared/ids.js';
import type { Logger } from '../shared/logger.js';

interface RelayedMessage {
  origin: string;
  event: RelayedEvent;
  payload: DomainEventMap[RelayedEvent][0];
}

const relayed = new Set<string>(RELAYED_EVENTS);

/**
 * Carries the domain events every process must hear (RELAYED_EVENTS) over a Redis pub/sub channel:
 * what is emitted here is published, what another process published is emitted here. A payload heard
 * from elsewhere is never published again, and a process ignores what it published itself, so nothing
 * loops. Pub/sub loses what is published while a process is cut off from Redis: the account changes and
 * revocations among these also come through the account-events feed, so that is their insurance; the
 * rest is read again on `relayResumed`, announced when a cut-off process is back.
 */
export function relayDomainEvents(options: {
  publisher: Redis;
  /** Subscribed to `channel` already (ioredis subscribes again after each reconnect). */
  subscriber: Redis;
  channel: string;
  events: DomainEvents;
  logger: Logger;
}): void {
  const { publisher, subscriber, channel, events, logger } = options;
  const origin = newId();
  for (const event of RELAYED_EVENTS) {
    events.on(event, (payload: DomainEventMap[RelayedEvent][0]) => {
      if (events.heardFromElsewhere(payload)) return;
      const message: RelayedMessage = { origin, event, payload };
      publisher.publish(channel, JSON.stringify(message)).catch((error: unknown) => {
        logger.warn({ err: error, event }, 'could not relay a domain event to the other processes');
      });
    });
  }
  // Its first 'ready' came before this: each later one ends an outage, heard here and by the others
  // (their own link may have been up all along, and missed what this process said meanwhile).
  subscriber.on('ready', () => events.emit('relayResumed', { at: new Date().toISOString() }));
  subscriber.on('message', (from: string, text: string) => {
    if (from !== channel) return;
    let message: RelayedMessage;
    try {
      message = JSON.parse(text) as RelayedMessage;
    } catch (error) {
      logger.warn({ err: error }, 'ignored an unreadable relayed domain event');
      return;
    }
    if (message.origin === origin || !relayed.has(message.event)) return;
    try {
      events.emitHeard(message.event, message.payload);
    } catch (error) {
      logger.error({ err: error, event: message.event }, 'a listener of a relayed domain event failed');
    }
  });
}
