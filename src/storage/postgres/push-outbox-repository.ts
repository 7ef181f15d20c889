import { sql, type Kysely } from 'kysely';
import { MAX_DEVICES_PER_PUSH, type DuePush, type PushContent, type PushKind, type PushStore, type SentPush } from '../../push/push-store.js';
import { newId } from '../../shared/ids.js';
import type { Database } from './schema.js';

/**
 * A UUIDv7 made by the database (the millisecond clock over gen_random_uuid's random bits, version 7):
 * a statement that writes a row per device cannot know beforehand how many ids to bring.
 */
const uuidV7 = sql`encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())
  placing substring(int8send((extract(epoch from clock_timestamp()) * 1000)::bigint) from 3) from 1 for 6), 52, 1), 53, 1), 'hex')::uuid`;

/** A lease is free when there is none or it ran out (its worker died or gave up). */
const leaseFree = (now: Date) => sql`(lease_until is null or lease_until <= ${now})`;

export function createPushOutboxRepository(db: Kysely<Database>): PushStore {
  const enqueueMany: PushStore['enqueueMany'] = async (pushes) => {
    if (pushes.length === 0) return 0;
    // One statement: the tokens of the users' live sessions (a token without a session predates sessions
    // and counts as live), each queued or merged into its unsent push with the same key. Locking the
    // tokens FOR SHARE orders this against a registration moving a token to another user: either the move
    // waits for these rows (and then drops them) or this sees the token already moved. Rows are written in
    // token order, so two of these never wait for each other's rows in opposite orders.
    const { rows } = await sql<{ id: string }>`
      with input as (
        select
          (e.push->>'userId')::uuid as user_id, e.push->>'kind' as kind, e.push->'content' as content,
          e.push->>'coalesceKey' as coalesce_key, (e.push->>'dueAt')::timestamptz as due_at,
          (e.push->>'expiresAt')::timestamptz as expires_at, e.ord
        from jsonb_array_elements(${JSON.stringify(pushes)}::jsonb) with ordinality e(push, ord)
      ),
      -- Pushes of one call with the same user and key are one, as if enqueued one after another.
      merged as (
        select user_id, kind, content, coalesce_key, expires_at,
          first_value(due_at) over (same order by ord) as due_at,
          row_number() over (same order by ord desc) as newest_first
        from input
        window same as (partition by user_id, coalesce_key, case when coalesce_key is null then ord end)
      ),
      live as (
        select t.token, t.user_id, t.updated_at from push_tokens t left join sessions s on s.id = t.session_id
        where t.user_id in (select user_id from input)
          and (t.session_id is null or (s.revoked_at is null and s.expires_at > now()))
        for share of t
      ),
      -- Each user's MAX_DEVICES_PER_PUSH most recently registered of them.
      devices as (
        select token, user_id, row_number() over (partition by user_id order by updated_at desc) as newest_first from live
      )
      insert into push_outbox (id, token, user_id, kind, content, coalesce_key, due_at, expires_at, created_at)
      select ${uuidV7}, d.token, p.user_id, p.kind, p.content, p.coalesce_key, p.due_at, p.expires_at, now()
      from merged p join devices d on d.user_id = p.user_id and d.newest_first <= ${MAX_DEVICES_PER_PUSH}
      where p.newest_first = 1
      order by d.token
      on conflict (token, coalesce_key) where ticket_id is null and coalesce_key is not null do update set
        kind = excluded.kind, content = excluded.content, expires_at = excluded.expires_at, revision = push_outbox.revision + 1
      returning id`.execute(db);
    return rows.length;
  };

  return {
    enqueue: (push) => enqueueMany([push]),
    enqueueMany,

    async claimDue(now, leaseUntil, limit) {
      const { rows } = await sql<{
        id: string;
        token: string;
        user_id: string;
        kind: PushKind;
        content: PushContent;
        attempts: number;
        expires_at: Date;
        due_at: Date;
      }>`
        update push_outbox set lease_until = ${leaseUntil}, leased_revision = revision
        where id in (
          select id from push_outbox
          where ticket_id is null and due_at <= ${now} and ${leaseFree(now)}
          order by due_at
          limit ${limit}
          for update skip locked
        )
        returning id, token, user_id, kind, content, attempts, expires_at, due_at`.execute(db);
      return rows
        .sort((a, b) => a.due_at.getTime() - b.due_at.getTime())
        .map(
          (row): DuePush => ({
            id: row.id,
            token: row.token,
            userId: row.user_id,
            kind: row.kind,
            content: row.content,
            attempts: row.attempts,
            expiresAt: row.expires_at,
          }),
        );
    },

    async markSent(id, ticketId, sentAt, receiptAt) {
      // Normally the push becomes a sent one. If a newer push was merged into it while it was being sent,
      // the ticket goes to a copy and the push itself is released, due at once, to send the newer content.
      await sql`
        with leased as (
          select id, revision <> leased_revision as merged from push_outbox where id = ${id} and ticket_id is null for update
        ),
        sent_copy as (
          insert into push_outbox (id, token, user_id, kind, content, due_at, expires_at, attempts, ticket_id, sent_at, receipt_at, created_at)
          select ${newId()}, p.token, p.user_id, p.kind, p.content, p.due_at, p.expires_at, p.attempts, ${ticketId}, ${sentAt}, ${receiptAt}, p.created_at
          from push_outbox p join leased on leased.id = p.id where leased.merged
        )
        update push_outbox p set
          lease_until = null,
          ticket_id = case when leased.merged then null else ${ticketId} end,
          sent_at = case when leased.merged then null else ${sentAt}::timestamptz end,
          receipt_at = case when leased.merged then null else ${receiptAt}::timestamptz end
        from leased where p.id = leased.id`.execute(db);
    },

    async retryAt(id, dueAt) {
      await db
        .updateTable('push_outbox')
        .set((eb) => ({ lease_until: null, attempts: eb('attempts', '+', 1), due_at: dueAt }))
        .where('id', '=', id)
        .where('ticket_id', 'is', null)
        .execute();
    },

    async claimReceiptsDue(now, leaseUntil, limit) {
      const { rows } = await sql<{ id: string; token: string; ticket_id: string; sent_at: Date }>`
        update push_outbox set lease_until = ${leaseUntil}
        where id in (
          select id from push_outbox
          where ticket_id is not null and receipt_at <= ${now} and ${leaseFree(now)}
          order by receipt_at
          limit ${limit}
          for update skip locked
        )
        returning id, token, ticket_id, sent_at`.execute(db);
      return rows.map((row): SentPush => ({ id: row.id, token: row.token, ticketId: row.ticket_id, sentAt: row.sent_at }));
    },

    async checkReceiptAt(id, receiptAt) {
      await db
        .updateTable('push_outbox')
        .set({ receipt_at: receiptAt, lease_until: null })
        .where('id', '=', id)
        .where('ticket_id', 'is not', null)
        .execute();
    },

    async finish(id) {
      // An unsent push that a newer one was merged into while leased is released instead: the newer
      // content is still to be sent.
      await sql`
        with released as (
          update push_outbox set lease_until = null
          where id = ${id} and ticket_id is null and revision <> leased_revision
          returning id
        )
        delete from push_outbox where id = ${id} and not (ticket_id is null and revision <> leased_revision)`.execute(db);
    },

    async removeToken(token, unlessRegisteredAfter) {
      const result = await db
        .deleteFrom('push_tokens')
        .where('token', '=', token)
        .where('updated_at', '<=', unlessRegisteredAfter)
        .executeTakeFirst();
      return result.numDeletedRows > 0n;
    },
  };
}
