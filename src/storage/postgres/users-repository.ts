import type { Kysely, Selectable } from 'kysely';
import type { UserRecord, UsersRepository } from '../ports.js';
import type { Database, UsersTable } from './schema.js';

export function toUser(row: Selectable<UsersTable>): UserRecord {
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
  };
}
