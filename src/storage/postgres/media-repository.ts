import { sql, type Kysely, type Selectable } from 'kysely';
import type { AttachmentRecord, DiscardedMedia, MediaDetails, MediaRecord, MediaStore } from '../../media/media-store.js';
import type { Database, MediaTable } from './schema.js';

type MediaRow = Selectable<MediaTable>;

export function toAttachment(row: MediaRow): AttachmentRecord {
  return {
    id: row.id,
    kind: row.kind,
    contentType: row.content_type,
    size: Number(row.size),
    fileName: row.file_name,
    width: row.width,
    height: row.height,
    durationMs: row.duration_ms,
    encrypted: row.encrypted,
    thumbnail: row.thumbnail_width !== null && row.thumbnail_height !== null ? { width: row.thumbnail_width, height: row.thumbnail_height } : null,
  };
}

function toMedia(row: MediaRow): MediaRecord {
  return { ...toAttachment(row), ownerId: row.owner_id, status: row.status, messageId: row.message_id, createdAt: row.created_at };
}

const toDiscarded = (row: Pick<MediaRow, 'id' | 'status' | 'thumbnail_width'>): DiscardedMedia => ({
  id: row.id,
  status: row.status,
  hasThumbnail: row.thumbnail_width !== null,
});

const detailColumns = (details: MediaDetails) => ({
  kind: details.kind,
  content_type: details.contentType,
  size: details.size,
  width: details.width,
  height: details.height,
  duration_ms: details.durationMs,
  thumbnail_width: details.thumbnail?.width ?? null,
  thumbnail_height: details.thumbnail?.height ?? null,
});

export function createMediaRepository(db: Kysely<Database>): MediaStore {
  const usage = async (executor: Kysely<Database>, ownerId: string, since: Date) => {
    const row = await executor
      .selectFrom('media')
      .select([sql<string>`count(*) filter (where created_at >= ${since})`.as('uploads'), sql<string>`coalesce(sum(size), 0)`.as('bytes')])
      .where('owner_id', '=', ownerId)
      .where('discarded_at', 'is', null)
      .executeTakeFirstOrThrow();
    return { uploads: Number(row.uploads), bytes: Number(row.bytes) };
  };
  const markDiscarded = () => db.updateTable('media').set({ discarded_at: new Date() }).where('discarded_at', 'is', null);

  return {
    create: (media, budget) =>
      db.transaction().execute(async (trx) => {
        // One owner's uploads are counted and stored one at a time, whichever process takes them.
        await sql`select pg_advisory_xact_lock(hashtextextended(${`media:${media.ownerId}`}, 0))`.execute(trx);
        const used = await usage(trx, media.ownerId, budget.since);
        if (used.uploads >= budget.maxUploads) return 'tooManyUploads';
        if (used.bytes + media.size > budget.maxBytes) return 'quotaExceeded';
        await trx
          .insertInto('media')
          .values({
            id: media.id,
            owner_id: media.ownerId,
            status: media.status,
            encrypted: media.encrypted,
            created_at: media.createdAt,
            file_name: media.fileName,
            ...detailColumns(media),
          })
          .execute();
        return 'created';
      }),

    usage: (ownerId, since) => usage(db, ownerId, since),

    async findById(id) {
      const row = await db.selectFrom('media').selectAll().where('id', '=', id).where('discarded_at', 'is', null).executeTakeFirst();
      return row ? toMedia(row) : null;
    },

    async findAccessible(id, viewerId) {
      const { rows } = await sql<MediaRow>`
        select media.* from media
        left join messages message on message.id = media.message_id
        where media.id = ${id} and media.status = 'ready' and media.discarded_at is null and (
          (media.owner_id = ${viewerId} and (media.attached_at is null or message.id is not null))
          or exists (
            select 1 from conversation_members member
            where member.conversation_id = message.conversation_id and member.user_id = ${viewerId} and member.left_at is null
          )
        )`.execute(db);
      return rows[0] ? toMedia(rows[0]) : null;
    },

    async markReady(id, ownerId, details) {
      const row = await db
        .updateTable('media')
        .set({ status: 'ready', ...detailColumns(details) })
        .where('id', '=', id)
        .where('owner_id', '=', ownerId)
        .where('status', '=', 'uploading')
        .where('discarded_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      return row ? toMedia(row) : null;
    },

    async discardByOwner(ownerId) {
      const result = await markDiscarded().where('owner_id', '=', ownerId).executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    async discardUnattached(createdBefore, limit) {
      const { rows } = await sql<{ discarded: string }>`
        with due as (
          (select id from media where attached_at is null and discarded_at is null and created_at < ${createdBefore} order by created_at limit ${limit})
          union all
          (select id from media where attached_at is not null and message_id is null and discarded_at is null limit ${limit})
        ),
        marked as (update media set discarded_at = now() from due where media.id = due.id and media.discarded_at is null returning 1)
        select count(*) as discarded from marked`.execute(db);
      return Number(rows[0]?.discarded);
    },

    async listDiscarded(limit) {
      const rows = await db
        .selectFrom('media')
        .select(['id', 'status', 'thumbnail_width'])
        .where('discarded_at', 'is not', null)
        .orderBy('discarded_at')
        .limit(limit)
        .execute();
      return rows.map(toDiscarded);
    },

    async delete(ids) {
      if (ids.length > 0) await db.deleteFrom('media').where('id', 'in', ids).execute();
    },
  };
}
