import type { Kysely, Selectable } from 'kysely';
import type { CallRecord } from '../../calls/call-state-machine.js';
import type { CallsRepository } from '../ports.js';
import { progressColumns, progressOf, UNFINISHED_CALL_STATUSES } from './call-progress.js';
import type { ProcessLiveness } from './process-liveness.js';
import type { CallsTable, Database } from './schema.js';


/** The columns naming the user in calls of each direction. */
const ROLE_COLUMNS = {
  incoming: ['callee_id'],
  outgoing: ['caller_id'],
  either: ['caller_id', 'callee_id'],
} as const satisfies Record<string, readonly ('caller_id' | 'callee_id')[]>;

function toCall(row: Selectable<CallsTable>): CallRecord {
  return {
    id: row.id,
    callerId: row.caller_id,
    calleeId: row.callee_id,
    type: row.type,
    createdAt: row.created_at,
    ...progressOf(row),
  };
}

export function createCallsRepository(db: Kysely<Database>, process: ProcessLiveness): CallsRepository {
  return {
    async create(call) {
      await db
        .insertInto('calls')
        .values({ id: call.id, caller_id: call.callerId, callee_id: call.calleeId, type: call.type, created_at: call.createdAt, owner_id: process.id, ...progressColumns(call) })
        .execute();
    },
    async update(next, expected) {
      const result = await db
        .updateTable('calls')
        .set(progressColumns(next))
        .where('id', '=', next.id)
        .where('status', '=', expected)
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },
    async findById(id) {
      const row = await db.selectFrom('calls').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? toCall(row) : null;
    },
    async listForUser(userId, filter) {
      // One branch per role, each a range scan of its index (calls_caller_idx, calls_callee_idx), then merged.
      const branch = (column: 'caller_id' | 'callee_id') => {
        let query = db.selectFrom('calls').selectAll().where(column, '=', userId);
        if (filter.before) query = query.where('id', '<', filter.before);
        if (filter.statuses) query = query.where('status', 'in', [...filter.statuses]);
        return db.selectFrom(query.orderBy('id', 'desc').limit(filter.limit).as('branch')).selectAll();
      };
      const roles = ROLE_COLUMNS[filter.direction ?? 'either'];
      const union = roles.map(branch).reduce((merged, next) => merged.unionAll(next));
      const rows = await db.selectFrom(union.as('call')).selectAll().orderBy('id', 'desc').limit(filter.limit).execute();
      return rows.map(toCall);
    },
    async listOrphaned() {
      const owners = await db.selectFrom('calls').select('owner_id').distinct().where('status', 'in', UNFINISHED_CALL_STATUSES).execute();
      const gone = await process.gone(owners.map((row) => row.owner_id));
      if (gone.length === 0) return [];
      const rows = await db.selectFrom('calls').selectAll().where('owner_id', 'in', gone).where('status', 'in', UNFINISHED_CALL_STATUSES).execute();
      return rows.map(toCall);
    },
  };
}
