import { sql, type Kysely, type Selectable } from 'kysely';
import type { PersonRecord, UserRecord, UsersRepository } from '../ports.js';
import type { Database, UsersTable } from './schema.js';

function toUser(row: Selectable<UsersTable>): UserRecord {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    passwordHash: row.password_hash,
    role: row.role,
    status: row.status,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
  };
}

const toPerson = (row: Pick<Selectable<UsersTable>, 'id' | 'name' | 'last_seen_at'>): PersonRecord => ({
  id: row.id,
  name: row.name,
  lastSeenAt: row.last_seen_at,
});

/** LIKE treats % and _ as wildcards and \ as the escape: a search for them means the characters. */
const escapeLike = (text: string) => text.replace(/[\\%_]/g, (char) => `\\${char}`);

// Search matches and orders on these expressions, exactly as indexed in migration 0002-chat.
const searchName = sql<string>`lower(name) collate "C"`;
const searchEmail = sql<string>`email collate "C"`;

export function createUsersRepository(db: Kysely<Database>): UsersRepository {
  const byId = (id: string) => db.selectFrom('users').selectAll().where('id', '=', id);
  return {
    async create(user) {
      const row = await db
        .insertInto('users')
        .values({ id: user.id, email: user.email, name: user.name, password_hash: user.passwordHash, created_at: user.createdAt })
        .onConflict((oc) => oc.column('email').doNothing())
        .returningAll()
        .executeTakeFirst();
      return row ? toUser(row) : null;
    },
    async findById(id) {
      const row = await byId(id).executeTakeFirst();
      return row ? toUser(row) : null;
    },
    async findByEmail(email) {
      const row = await db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
      return row ? toUser(row) : null;
    },
    async updatePasswordHash(id, passwordHash) {
      await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', id).execute();
    },
    async setRole(id, role) {
      const row = await db.updateTable('users').set({ role }).where('id', '=', id).returningAll().executeTakeFirst();
      return row ? toUser(row) : null;
    },
    async setStatus(id, status) {
      const row = await db.updateTable('users').set({ status }).where('id', '=', id).returningAll().executeTakeFirst();
      return row ? toUser(row) : null;
    },
    async setLastSeen(id, at) {
      await db.updateTable('users').set({ last_seen_at: at }).where('id', '=', id).execute();
    },
    async search(prefix, page) {
      const pattern = `${escapeLike(prefix.toLowerCase())}%`;
      let query = db
        .selectFrom('users')
        .select(['id', 'name', 'last_seen_at'])
        .where('status', '=', 'active')
        .where('id', '!=', page.excludeId)
        .where((eb) => eb.or([eb(searchName, 'like', pattern), eb(searchEmail, 'like', pattern)]));
      if (page.after) {
        const cursor = db.selectFrom('users').select([searchName.as('name'), 'id']).where('id', '=', page.after);
        query = query.where(sql`(${searchName}, id)`, '>', cursor);
      }
      const rows = await query.orderBy(searchName).orderBy('id').limit(page.limit).execute();
      return rows.map(toPerson);
    },
    async findPeople(ids) {
      if (ids.length === 0) return [];
      const rows = await db
        .selectFrom('users')
        .select(['id', 'name', 'last_seen_at'])
        .where('id', 'in', ids)
        .where('status', '=', 'active')
        .execute();
      return rows.map(toPerson);
    },
  };
}
