import { sql, type Kysely, type Selectable } from 'kysely';
import type { PersonRecord, UserRecord, UserRole, UsersRepository, UserStatus } from '../ports.js';
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

// Search matches and orders on these expressions, exactly as indexed in migrations 0002-chat and 0005-people-privacy.
const searchName = sql<string>`lower(name) collate "C"`;
const nameWords = sql`to_tsvector('simple', name)`;

/**
 * The words of a query as a text-search prefix query: "smi an" finds names with a word starting with
 * "smi" and one starting with "an". Only letters and digits reach to_tsquery, so nothing in the query is
 * read as its syntax. Null when the query has no words.
 */
function wordPrefixQuery(query: string): string | null {
  const words = query.toLowerCase().split(/[^\p{L}\p{M}\p{N}]+/u).filter(Boolean);
  return words.length > 0 ? words.map((word) => `${word}:*`).join(' & ') : null;
}

/** Changes an account and, in the same statement, records the change in the account-events feed. */
async function changeAccount(db: Kysely<Database>, id: string, change: { role?: UserRole; status?: UserStatus }): Promise<UserRecord | null> {
  const row = await db
    .with('changed', (qb) => qb.updateTable('users').set(change).where('id', '=', id).returningAll())
    .with('recorded', (qb) =>
      qb
        .insertInto('account_events')
        .columns(['user_id', 'kind', 'status'])
        .expression((eb) => eb.selectFrom('changed').select(['id', sql.lit('account_changed').as('kind'), 'status'])),
    )
    .selectFrom('changed')
    .selectAll()
    .executeTakeFirst();
  return row ? toUser(row) : null;
}

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
    setRole: (id, role) => changeAccount(db, id, { role }),
    setStatus: (id, status) => changeAccount(db, id, { status }),
    async setLastSeen(id, at) {
      await db.updateTable('users').set({ last_seen_at: at }).where('id', '=', id).execute();
    },
    async search(text, page) {
      const lowered = text.toLowerCase();
      const words = wordPrefixQuery(text);
      let query = db
        .selectFrom('users')
        .select(['id', 'name', 'last_seen_at'])
        .where('status', '=', 'active')
        .where('id', '!=', page.excludeId)
        .where((eb) =>
          eb.or([
            eb(searchName, 'like', `${escapeLike(lowered)}%`),
            ...(words ? [eb(nameWords, '@@', sql`to_tsquery('simple', ${words})`)] : []),
            // Emails are stored lower-cased: a whole one matches through the unique index, a part never.
            eb('email', '=', lowered),
          ]),
        );
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
    async list(filter) {
      let query = db.selectFrom('users').selectAll();
      if (filter.query) {
        const prefix = `${escapeLike(filter.query.toLowerCase())}%`;
        query = query.where((eb) => eb.or([eb(searchName, 'like', prefix), eb('email', 'like', prefix)]));
      }
      if (filter.status) query = query.where('status', '=', filter.status);
      if (filter.after) query = query.where('id', '<', filter.after);
      const rows = await query.orderBy('id', 'desc').limit(filter.limit).execute();
      return rows.map(toUser);
    },
  };
}
