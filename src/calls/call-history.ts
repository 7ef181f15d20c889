import type { CallHistoryQuery, CallHistoryResponse } from '../protocol/calls.js';
import { paginate } from '../shared/pagination.js';
import type { CallsRepository, GroupCallsRepository } from '../storage/ports.js';
import { presentCall } from './call-presenter.js';
import { presentGroupCall } from './group-call-presenter.js';

/**
 * A user's calls, 1:1 and group together, newest first: a page of each, merged by id (ids sort by
 * creation time on every backend), so `before` pages through both at once.
 */
export async function callHistory(
  repositories: { calls: CallsRepository; groupCalls: GroupCallsRepository },
  userId: string,
  query: CallHistoryQuery,
  now: Date,
): Promise<CallHistoryResponse> {
  const filter = { before: query.before, limit: query.limit + 1, statuses: query.status, direction: query.direction };
  const [direct, group] = await Promise.all([repositories.calls.listForUser(userId, filter), repositories.groupCalls.listForMember(userId, filter)]);
  const merged = [...direct.map((call) => ({ id: call.id, dto: presentCall(call) })), ...group.map((call) => ({ id: call.id, dto: presentGroupCall(call, now) }))];
  merged.sort((a, b) => (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const { items, nextCursor } = paginate(merged.slice(0, query.limit + 1), query.limit, (entry) => entry.id);
  return { calls: items.map((entry) => entry.dto), nextCursor };
}
