import { sql, type Kysely } from 'kysely';
import type { BlocksRepository } from '../ports.js';
import type { Database } from './schema.js';

export function createBlocksRepository(db: Kysely<Database>): BlocksRepository {
  return {
    async block(blockerId, blockedId, at) {
      // A block made before keeps its time; `xmax = 0` tells an inserted row from an existing one.
      const { rows } = await sql<{ created: boolean; created_at: Date }>`
        insert into user_blocks (blocker_id, blocked_id, created_at) values (${blockerId}, ${blockedId}, ${at})
        on conflict (blocker_id, blocked_id) do update set created_at = user_blocks.created_at
        returning xmax = 0 as created, created_at`.execute(db);
      return { created: rows[0]!.created, blockedAt: rows[0]!.created_at };
    },

    async unblock(blockerId, blockedId) {
      const result = await db.deleteFrom('user_blocks').where('blocker_id', '=', blockerId).where('blocked_id', '=', blockedId).executeTakeFirst();
      return result.numDeletedRows > 0n;
    },

    async list(blockerId, page) {
      const { rows } = await sql<{ blocked_id: string; name: string; created_at: Date }>`
        select b.blocked_id, u.name, b.created_at from user_blocks b join users u on u.id = b.blocked_id
        where b.blocker_id = ${blockerId}
        ${
          page.after
            ? sql`and (b.created_at, b.blocked_id) < (select created_at, blocked_id from user_blocks where blocker_id = ${blockerId} and blocked_id = ${page.after})`
            : sql``
        }
        order by b.created_at desc, b.blocked_id desc
        limit ${page.limit}`.execute(db);
      return rows.map((row) => ({ userId: row.blocked_id, name: row.name, blockedAt: row.created_at }));
    },

    async between(userId, otherId) {
      const { rows } = await sql<{ blocks: boolean; blocked_by: boolean }>`
        select exists (select 1 from user_blocks where blocker_id = ${userId} and blocked_id = ${otherId}) as blocks,
          exists (select 1 from user_blocks where blocker_id = ${otherId} and blocked_id = ${userId}) as blocked_by`.execute(db);
      return { blocks: rows[0]!.blocks, blockedBy: rows[0]!.blocked_by };
    },

    async blockersAmong(userId, userIds) {
      if (userIds.length === 0) return [];
      const rows = await db.selectFrom('user_blocks').select('blocker_id').where('blocked_id', '=', userId).where('blocker_id', 'in', userIds).execute();
      return rows.map((row) => row.blocker_id);
    },
  };
}
