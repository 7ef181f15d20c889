import type { Kysely, Selectable } from 'kysely';
import type { GroupCallMember, GroupCallRecord } from '../../calls/group-call-state-machine.js';
import type { GroupCallsRepository } from '../ports.js';
import { progressColumns, progressOf, UNFINISHED_CALL_STATUSES } from './call-progress.js';
import type { ProcessLiveness } from './process-liveness.js';
import type { Database, GroupCallMembersTable, GroupCallsTable } from './schema.js';


function toMember(row: Selectable<GroupCallMembersTable>): GroupCallMember {
  return {
    userId: row.user_id,
    joinedAt: row.joined_at,
    leftAt: row.left_at,
    inCallSince: row.in_call_since,
    msInCall: Number(row.ms_in_call),
    declinedAt: row.declined_at,
  };
}

function toCall(row: Selectable<GroupCallsTable>, members: GroupCallMember[]): GroupCallRecord {
  return {
    id: row.id,
    conversationId: row.conversation_id,
    startedBy: row.started_by,
    type: row.type,
    topology: row.topology,
    createdAt: row.created_at,
    ...progressOf(row),
    revision: row.revision,
    members,
  };
}

/** The columns a transition changes. */
function progress(call: GroupCallRecord) {
  return { ...progressColumns(call), revision: call.revision };
}

function memberRow(callId: string, member: GroupCallMember, position: number) {
  return {
    call_id: callId,
    user_id: member.userId,
    position,
    joined_at: member.joinedAt,
    left_at: member.leftAt,
    in_call_since: member.inCallSince,
    ms_in_call: member.msInCall,
    declined_at: member.declinedAt,
  };
}

export function createGroupCallsRepository(db: Kysely<Database>, process: ProcessLiveness): GroupCallsRepository {
  /** The calls of these rows, each with its members in order. */
  async function withMembers(rows: Selectable<GroupCallsTable>[]): Promise<GroupCallRecord[]> {
    if (rows.length === 0) return [];
    const memberRows = await db
      .selectFrom('group_call_members')
      .selectAll()
      .where('call_id', 'in', rows.map((row) => row.id))
      .orderBy('call_id')
      .orderBy('position')
      .execute();
    const byCall = new Map<string, GroupCallMember[]>();
    for (const row of memberRows) byCall.set(row.call_id, [...(byCall.get(row.call_id) ?? []), toMember(row)]);
    return rows.map((row) => toCall(row, byCall.get(row.id) ?? []));
  }

  return {
    async create(call) {
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('group_calls')
          .values({ id: call.id, conversation_id: call.conversationId, started_by: call.startedBy, type: call.type, topology: call.topology, created_at: call.createdAt, owner_id: process.id, ...progress(call) })
          .execute();
        await trx
          .insertInto('group_call_members')
          .values(call.members.map((member, position) => memberRow(call.id, member, position)))
          .execute();
      });
    },
    async update(next, expected) {
      return db.transaction().execute(async (trx) => {
        const result = await trx
          .updateTable('group_calls')
          .set(progress(next))
          .where('id', '=', next.id)
          .where('revision', '=', expected.revision)
          .executeTakeFirst();
        if (result.numUpdatedRows === 0n) return false;
        const changed = new Set(expected.changedMembers);
        const rows = next.members.flatMap((member, position) => (changed.has(member.userId) ? [memberRow(next.id, member, position)] : []));
        if (rows.length > 0) {
          await trx
            .insertInto('group_call_members')
            .values(rows)
            .onConflict((conflict) =>
              conflict.columns(['call_id', 'user_id']).doUpdateSet((eb) => ({
                joined_at: eb.ref('excluded.joined_at'),
                left_at: eb.ref('excluded.left_at'),
                in_call_since: eb.ref('excluded.in_call_since'),
                ms_in_call: eb.ref('excluded.ms_in_call'),
                declined_at: eb.ref('excluded.declined_at'),
              })),
            )
            .execute();
        }
        return true;
      });
    },
    async findById(id) {
      const row = await db.selectFrom('group_calls').selectAll().where('id', '=', id).executeTakeFirst();
      return row ? ((await withMembers([row]))[0] ?? null) : null;
    },
    async listForMember(userId, filter) {
      // A range scan of the user's member rows (group_call_members_user_idx), each joined to its call.
      let query = db
        .selectFrom('group_call_members as m')
        .innerJoin('group_calls as c', 'c.id', 'm.call_id')
        .selectAll('c')
        .where('m.user_id', '=', userId);
      if (filter.before) query = query.where('m.call_id', '<', filter.before);
      if (filter.statuses) query = query.where('c.status', 'in', [...filter.statuses]);
      if (filter.direction === 'outgoing') query = query.where('c.started_by', '=', userId);
      if (filter.direction === 'incoming') query = query.where('c.started_by', '<>', userId);
      return withMembers(await query.orderBy('m.call_id', 'desc').limit(filter.limit).execute());
    },
    async listOrphaned() {
      const owners = await db.selectFrom('group_calls').select('owner_id').distinct().where('status', 'in', UNFINISHED_CALL_STATUSES).execute();
      const gone = await process.gone(owners.map((row) => row.owner_id));
      if (gone.length === 0) return [];
      return withMembers(await db.selectFrom('group_calls').selectAll().where('owner_id', 'in', gone).where('status', 'in', UNFINISHED_CALL_STATUSES).execute());
    },
  };
}
