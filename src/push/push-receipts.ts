import type { Logger } from '../shared/logger.js';
import type { PushSender } from './expo-push-client.js';
import type { PushStats } from './push-stats.js';
import type { PushStore } from './push-store.js';

/** Ticket ids per getReceipts request at most (Expo's limit is 1000; the SDK chunks by 300). */
export const RECEIPT_BATCH = 300;
/** A receipt not ready yet is asked for again after this long. */
const RECEIPT_RECHECK_MS = 60_000;
/** Expo keeps receipts for about a day: a push still without one by then is given up on. */
const RECEIPT_GIVE_UP_MS = 24 * 60 * 60 * 1000;

export interface ReceiptCheckDeps {
  store: PushStore;
  sender: PushSender;
  logger: Logger;
  stats: PushStats;
  leaseMs: number;
}

/**
 * Leases a batch of sent pushes whose receipt is due and settles each by its receipt: ok or a final
 * error finishes it, DeviceNotRegistered also removes the token, no receipt yet asks again later.
 * Returns how many were leased. If Expo cannot be asked, the leases run out and the batch comes back.
 */
export async function checkReceipts(deps: ReceiptCheckDeps, now: Date): Promise<number> {
  const { store, logger, stats } = deps;
  const due = await store.claimReceiptsDue(now, new Date(now.getTime() + deps.leaseMs), RECEIPT_BATCH);
  if (due.length === 0) return 0;
  let receipts;
  try {
    receipts = await deps.sender.receipts(due.map((push) => push.ticketId));
  } catch (error) {
    logger.warn({ err: error, count: due.length }, 'push receipts could not be fetched; retrying');
    return due.length;
  }
  for (const push of due) {
    try {
      const receipt = receipts.get(push.ticketId);
      if (receipt === undefined) {
        if (now.getTime() - push.sentAt.getTime() < RECEIPT_GIVE_UP_MS) {
          await store.checkReceiptAt(push.id, new Date(now.getTime() + RECEIPT_RECHECK_MS));
          continue;
        }
        logger.warn({ pushId: push.id, ticketId: push.ticketId }, 'push receipt never came; giving up');
      } else if (receipt.status === 'error') {
        if (receipt.details?.error === 'DeviceNotRegistered') {
          if (await store.removeToken(push.token, push.sentAt)) stats.add('tokensRemoved');
        } else {
          stats.add('failed');
          logger.error({ pushId: push.id, error: receipt.details?.error, message: receipt.message }, 'push failed at delivery');
        }
      }
      await store.finish(push.id);
    } catch (error) {
      logger.error({ err: error, pushId: push.id }, 'push receipt could not be recorded');
    }
  }
  return due.length;
}
