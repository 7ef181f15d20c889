import { createHash } from 'node:crypto';
import pg from 'pg';

type Query = (...args: unknown[]) => never;

/**
 * A connection that runs every statement as a prepared one, named by the hash of its text: PostgreSQL
 * parses and plans it once per connection, not at every execution. For the message-batch pool only,
 * which runs one statement: a connection keeps prepared every statement it has run.
 */
export class PreparingClient extends pg.Client {
  override query(config: unknown, values?: unknown, callback?: unknown): never {
    const query = super.query.bind(this) as Query;
    if (typeof config !== 'string') return query(config, values, callback);
    const name = createHash('sha1').update(config).digest('base64url');
    // query(text, callback) as well as query(text, values, callback)
    return typeof values === 'function' ? query({ name, text: config }, values) : query({ name, text: config, values }, callback);
  }
}
