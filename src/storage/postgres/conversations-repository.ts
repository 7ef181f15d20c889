import { sql, type Kysely, type Selectable } from 'kysely';
import { EMBEDDED_MEMBERS } from '../../protocol/conversations.js';
import { newId } from '../../shared/ids.js';
import type { ConversationRecord, ConversationsRepository, MemberConversationRecord, MemberRecord } from '../ports.js';
import { newChangePosition, setNewChangePosition } from './change-positions.js';
import { messageColumns, toMessage, type MessageRow } from './message-rows.js';
import { unreadCountOf } from './messages-repository.js';
import type { ConversationMembersTable, ConversationsTable, Database } from './schema.js';

type MemberRow = Pick<Selectable<ConversationMembersTable>, 'user_id' | 'role' | 'joined_at' | 'last_read_message_id' | 'last_read_at'> & {
  name: string;
};

const toMember = (row: MemberRow): MemberRecord => ({
  userId: row.user_id,
  name: row.name,
  role: row.role,
  joinedAt: row.joined_at,
  lastReadMessageId: row.last_read_message_id,
  lastReadAt: row.last_read_at,
});

const memberColumns = sql`m.user_id, u.name, m.role, m.joined_at, m.last_read_message_id, m.last_read_at`;

/** The other member of the direct conversation `c` for the member row aliased `member`; null in a group. */
const peerOf = (member: string) =>
  sql<string | null>`case when c.direct_low_user_id = ${sql.ref(`${member}.user_id`)} then c.direct_high_user_id else c.direct_low_user_id end`;

/** The two users of a direct conversation in the order stored. */
const pair = (a: string, b: string) => (a < b ? { low: a, high: b } : { low: b, high: a });

type ConversationRow = Pick<Selectable<ConversationsTable>, 'id' | 'type' | 'title' | 'created_at' | 'member_count'> & {
  unread_count?: string;
  peer_id?: string | null;
};

/**
 * Loads conversations for the records the port returns: the rows (as `viewerId` sees them, when given:
 * only those the viewer is a current member of), their last messages (history index) and their first
 * EMBEDDED_MEMBERS current members, in three queries whatever the number of conversations. In the order of `ids`.
 */
async function loadConversations(db: Kysely<Database>, ids: readonly string[], viewerId: string | null) {
  if (ids.length === 0) return [];
  const viewer = viewerId
    ? {
        columns: sql`, ${unreadCountOf('v')} as unread_count, ${peerOf('v')} as peer_id`,
        join: sql`join conversation_members v on v.conversation_id = c.id and v.user_id = ${viewerId} and v.left_at is null`,
      }
    : { columns: sql``, join: sql`` };
  const [conversations, lastMessages, members] = await Promise.all([
    sql<ConversationRow>`
      select c.id, c.type, c.title, c.created_at, c.member_count ${viewer.columns}
      from conversations c ${viewer.join}
      where c.id = any(${ids}::uuid[])`.execute(db),
    sql<MessageRow>`
      select last.* from unnest(${ids}::uuid[]) as c (id)
      cross join lateral (
        select ${messageColumns('x')} from messages x where x.conversation_id = c.id
        ${viewerId ? sql`and not exists (select 1 from message_hides h where h.user_id = ${viewerId} and h.message_id = x.id)` : sql``}
        order by x.id desc limit 1
      ) last`.execute(db),
    sql<MemberRow & { conversation_id: string }>`
      select c.id as conversation_id, first.* from unnest(${ids}::uuid[]) as c (id)
      cross join lateral (
        select ${memberColumns} from conversation_members m join users u on u.id = m.user_id
        where m.conversation_id = c.id and m.left_at is null
        order by m.joined_at, m.user_id
        limit ${EMBEDDED_MEMBERS}
      ) first`.execute(db),
  ]);
  const lastMessageOf = new Map(lastMessages.rows.map((row) => [row.conversation_id, toMessage(row)]));
  const membersOf = new Map<string, MemberRecord[]>();
  for (const row of members.rows) {
    const list = membersOf.get(row.conversation_id) ?? [];
    list.push(toMember(row));
    membersOf.set(row.conversation_id, list);
  }
  const rowOf = new Map(conversations.rows.map((row) => [row.id, row]));
  return ids.flatMap((id) => {
    const row = rowOf.get(id);
    if (!row) return [];
    const conversation: ConversationRecord = {
      id: row.id,
      type: row.type,
      title: row.title,
      createdAt: row.created_at,
      memberCount: row.member_count,
      members: membersOf.get(id) ?? [],
      lastMessage: lastMessageOf.get(id) ?? null,
    };
    return [{ conversation, unreadCount: Number(row.unread_count ?? 0), peerId: row.peer_id ?? null }];
  });
}

/**
 * The conversations among `ids` that `viewerId` is a current member of, as the viewer sees them, in the
 * order of `ids`: the one way both the conversation list and sync build them.
 */
export async function loadMemberConversations(db: Kysely<Database>, viewerId: string, ids: readonly string[]): Promise<MemberConversationRecord[]> {
  const loaded = await loadConversations(db, ids, viewerId);
  return loaded.map(({ conversation, unreadCount, peerId }) => ({ ...conversation, unreadCount, peerId }));
}

export function createConversationsRepository(db: Kysely<Database>): ConversationsRepository {
  const findDirect = async (userA: string, userB: string) => {
    const { low, high } = pair(userA, userB);
    const row = await db
      .selectFrom('conversations')
      .select('id')
      .where('direct_low_user_id', '=', low)
      .where('direct_high_user_id', '=', high)
      .executeTakeFirst();
    return row?.id ?? null;
  };

  /**
   * Locks a group's row for a change of its members: those changes run one at a time per group. NO KEY
   * UPDATE leaves the row's key free, so messages (whose foreign key checks it) never wait for the lock.
   */
  const lockGroup = (trx: Kysely<Database>, conversationId: string) =>
    trx
      .selectFrom('conversations')
      .select('member_count')
      .where('id', '=', conversationId)
      .where('type', '=', 'group')
      .forNoKeyUpdate()
      .executeTakeFirst();

  /** A member change is also a change of the conversation as its members see it. */
  const bumpConversation = (trx: Kysely<Database>, conversationId: string, memberCountBy = 0) =>
    trx
      .updateTable('conversations')
      .set((eb) => ({ member_count: eb('member_count', '+', memberCountBy), ...newChangePosition }))
      .where('id', '=', conversationId)
      .execute();

  return {
    async ensureDirect(userA, userB, at) {
      const { low, high } = pair(userA, userB);
      // Racing calls: one inserts, the others wait for it on the pair's unique index, insert nothing and
      // then find the conversation it committed.
      const { rows } = await sql<{ id: string }>`
        with created as (
          insert into conversations (id, type, direct_low_user_id, direct_high_user_id, created_at, member_count)
          values (${newId()}, 'direct', ${low}, ${high}, ${at}, 2)
          on conflict (direct_low_user_id, direct_high_user_id) do nothing
          returning id
        ),
        members as (
          insert into conversation_members (conversation_id, user_id, role, joined_at)
          select created.id, party.id, 'member', ${at}::timestamptz from created, (values (${low}::uuid), (${high}::uuid)) as party (id)
        )
        select id from created`.execute(db);
      const id = rows[0]?.id ?? (await findDirect(low, high));
      if (!id) throw new Error('the direct conversation was neither created nor found');
      return id;
    },

    findDirect,

    async createGroup(group) {
      const memberIds = [...new Set([group.ownerId, ...group.memberIds])];
      await sql`
        with created as (
          insert into conversations (id, type, title, created_at, member_count)
          values (${group.id}, 'group', ${group.title}, ${group.createdAt}, ${memberIds.length})
          returning id
        )
        insert into conversation_members (conversation_id, user_id, role, joined_at)
        select created.id, member.id, case when member.id = ${group.ownerId}::uuid then 'owner' else 'member' end, ${group.createdAt}::timestamptz
        from created, unnest(${memberIds}::uuid[]) as member (id)`.execute(db);
    },

    async findForMember(conversationId, viewerId) {
      const [conversation] = await loadMemberConversations(db, viewerId, [conversationId]);
      return conversation ?? null;
    },

    async find(conversationId) {
      const [loaded] = await loadConversations(db, [conversationId], null);
      return loaded?.conversation ?? null;
    },

    async listForMember(userId, page) {
      // A conversation's activity is its last message's id (history index), else a group's own id: both
      // are time-ordered, so the list needs no write to the conversation per message. A direct
      // conversation without a message (its first send was refused after it was made) is not listed.
      const { rows } = await sql<{ id: string }>`
        select page.id from (
          select m.conversation_id as id, coalesce(
            (select x.id from messages x where x.conversation_id = m.conversation_id order by x.id desc limit 1),
            case when c.type = 'group' then m.conversation_id end) as activity
          from conversation_members m join conversations c on c.id = m.conversation_id
          where m.user_id = ${userId} and m.left_at is null
        ) page
        where page.activity is not null ${page.before ? sql`and page.activity < ${page.before}::uuid` : sql``}
        order by page.activity desc
        limit ${page.limit}`.execute(db);
      return loadMemberConversations(db, userId, rows.map((row) => row.id));
    },

    async membership(conversationId, userId) {
      const row = await db
        .selectFrom('conversation_members as m')
        .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
        .select(['c.type', 'm.role', peerOf('m').as('peerId')])
        .where('m.conversation_id', '=', conversationId)
        .where('m.user_id', '=', userId)
        .where('m.left_at', 'is', null)
        .executeTakeFirst();
      return row ?? null;
    },

    async members(conversationId, page) {
      const { rows } = await sql<MemberRow>`
        select ${memberColumns} from conversation_members m join users u on u.id = m.user_id
        where m.conversation_id = ${conversationId} and m.left_at is null
        ${
          page.after
            ? sql`and (m.joined_at, m.user_id) > (
                select joined_at, user_id from conversation_members where conversation_id = ${conversationId} and user_id = ${page.after})`
            : sql``
        }
        order by m.joined_at, m.user_id
        limit ${page.limit}`.execute(db);
      return rows.map(toMember);
    },

    async memberIds(conversationId) {
      const rows = await db
        .selectFrom('conversation_members')
        .select('user_id')
        .where('conversation_id', '=', conversationId)
        .where('left_at', 'is', null)
        .execute();
      return rows.map((row) => row.user_id);
    },

    async groupIdsOf(userId) {
      const rows = await db
        .selectFrom('conversation_members as m')
        .innerJoin('conversations as c', 'c.id', 'm.conversation_id')
        .select('c.id')
        .where('m.user_id', '=', userId)
        .where('m.left_at', 'is', null)
        .where('c.type', '=', 'group')
        .execute();
      return rows.map((row) => row.id);
    },

    addMembers(conversationId, userIds, at, maxMembers) {
      return db.transaction().execute(async (trx) => {
        const group = await lockGroup(trx, conversationId);
        if (!group) return { outcome: 'notFound' } as const;
        const asked = [...new Set(userIds)];
        if (asked.length === 0) return { outcome: 'added', userIds: [] } as const;
        const currentRows = await trx
          .selectFrom('conversation_members')
          .select('user_id')
          .where('conversation_id', '=', conversationId)
          .where('user_id', 'in', asked)
          .where('left_at', 'is', null)
          .execute();
        const current = new Set(currentRows.map((row) => row.user_id));
        const newcomers = asked.filter((userId) => !current.has(userId));
        if (newcomers.length === 0) return { outcome: 'added', userIds: [] } as const;
        if (group.member_count + newcomers.length > maxMembers) return { outcome: 'full', memberCount: group.member_count } as const;
        // Joining counts as having read what came before (as Slack does): a newcomer's unread count starts at 0.
        // Former members come back as members who joined now.
        const latest = await trx
          .selectFrom('messages')
          .select('id')
          .where('conversation_id', '=', conversationId)
          .orderBy('id', 'desc')
          .limit(1)
          .executeTakeFirst();
        const readUpTo = latest?.id ?? null;
        await trx
          .insertInto('conversation_members')
          .values(
            newcomers.map((userId) => ({
              conversation_id: conversationId,
              user_id: userId,
              role: 'member' as const,
              joined_at: at,
              last_read_message_id: readUpTo,
              last_read_at: readUpTo ? at : null,
            })),
          )
          .onConflict((oc) =>
            oc.columns(['conversation_id', 'user_id']).doUpdateSet((eb) => ({
              left_at: null,
              role: 'member',
              joined_at: at,
              last_read_message_id: sql<string | null>`greatest(${eb.ref('conversation_members.last_read_message_id')}, ${eb.ref('excluded.last_read_message_id')})`,
              last_read_at: sql<Date | null>`case when ${eb.ref('excluded.last_read_message_id')} > ${eb.ref('conversation_members.last_read_message_id')}
                or ${eb.ref('conversation_members.last_read_message_id')} is null then ${eb.ref('excluded.last_read_at')} else ${eb.ref('conversation_members.last_read_at')} end`,
              ...newChangePosition,
            })),
          )
          .execute();
        await bumpConversation(trx, conversationId, newcomers.length);
        return { outcome: 'added', userIds: newcomers } as const;
      });
    },

    removeMember(conversationId, userId, at) {
      return db.transaction().execute(async (trx) => {
        const notRemoved = { removed: false, newOwnerId: null };
        if (!(await lockGroup(trx, conversationId))) return notRemoved;
        const member = await trx
          .selectFrom('conversation_members')
          .select('role')
          .where('conversation_id', '=', conversationId)
          .where('user_id', '=', userId)
          .where('left_at', 'is', null)
          .executeTakeFirst();
        if (!member) return notRemoved;
        // The left row is a plain member's: a group's only owner row is its current owner's.
        await trx
          .updateTable('conversation_members')
          .set({ left_at: at, role: 'member', ...newChangePosition })
          .where('conversation_id', '=', conversationId)
          .where('user_id', '=', userId)
          .execute();
        let newOwnerId: string | null = null;
        if (member.role === 'owner') {
          const heir = await trx
            .updateTable('conversation_members')
            .set({ role: 'owner', ...newChangePosition })
            .where('conversation_id', '=', conversationId)
            .where('user_id', '=', (eb) =>
              eb
                .selectFrom('conversation_members')
                .select('user_id')
                .where('conversation_id', '=', conversationId)
                .where('left_at', 'is', null)
                .orderBy(sql`role = 'admin'`, 'desc')
                .orderBy('joined_at')
                .orderBy('user_id')
                .limit(1),
            )
            .returning('user_id')
            .executeTakeFirst();
          newOwnerId = heir?.user_id ?? null;
        }
        await bumpConversation(trx, conversationId, -1);
        return { removed: true, newOwnerId };
      });
    },

    setRole(conversationId, userId, role) {
      return db.transaction().execute(async (trx) => {
        if (!(await lockGroup(trx, conversationId))) return false;
        const changed = await trx
          .updateTable('conversation_members')
          .set({ role, ...newChangePosition })
          .where('conversation_id', '=', conversationId)
          .where('user_id', '=', userId)
          .where('left_at', 'is', null)
          .where('role', '<>', 'owner')
          .executeTakeFirst();
        if (changed.numUpdatedRows === 0n) return false;
        await bumpConversation(trx, conversationId);
        return true;
      });
    },

    async setTitle(conversationId, title) {
      const result = await db
        .updateTable('conversations')
        .set({ title, ...newChangePosition })
        .where('id', '=', conversationId)
        .where('type', '=', 'group')
        .executeTakeFirst();
      return result.numUpdatedRows > 0n;
    },

    async moveReadPosition({ conversationId, userId, messageId, at }) {
      // Not moved: how far the member had read, as it stood before this statement.
      const { rows } = await sql<{ moved: boolean; read_at: Date | null }>`
        with moved as (
          update conversation_members set last_read_message_id = ${messageId}, last_read_at = ${at}, ${setNewChangePosition}
          where conversation_id = ${conversationId} and user_id = ${userId} and left_at is null
            and (last_read_message_id is null or last_read_message_id < ${messageId})
            and exists (select 1 from messages where id = ${messageId} and conversation_id = ${conversationId})
          returning last_read_at
        )
        select true as moved, last_read_at as read_at from moved
        union all
        select false, m.last_read_at from conversation_members m
        where m.conversation_id = ${conversationId} and m.user_id = ${userId} and m.left_at is null
          and m.last_read_message_id >= ${messageId} and not exists (select 1 from moved)`.execute(db);
      const row = rows[0];
      return { moved: row?.moved ?? false, readAt: row?.read_at ?? null };
    },
  };
}
