import type { ClientSession, Collection, Db, MongoClient } from 'mongodb';
import type { CollectionName, Collections } from './documents.js';

/** What every repository of the adapter is built from: the typed collections and a transaction runner. */
export interface MongoDatabase {
  readonly client: MongoClient;
  readonly db: Db;
  collection<K extends CollectionName>(name: K): Collection<Collections[K]>;
  /**
   * Runs `work` in a multi-document transaction (snapshot reads, majority commit). The driver runs it
   * again on a transient error (a write conflict with a concurrent transaction) and retries the commit
   * when its outcome is unknown, so `work` must only read and write through `session`.
   */
  transaction<T>(work: (session: ClientSession) => Promise<T>): Promise<T>;
}

export function mongoDatabase(client: MongoClient, db: Db): MongoDatabase {
  return {
    client,
    db,
    collection: (name) => db.collection(name),
    transaction: (work) =>
      client.withSession((session) =>
        session.withTransaction(() => work(session), {
          readConcern: { level: 'snapshot' },
          writeConcern: { w: 'majority' },
          readPreference: 'primary',
        }),
      ),
  };
}

/** MongoDB's duplicate key error: an insert that a unique index refused. */
export const isDuplicateKey = (error: unknown) => (error as { code?: number } | null)?.code === 11000;
