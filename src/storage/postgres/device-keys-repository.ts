import { sql, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { DeviceKeysRecord, DeviceKeysRepository, NewToDeviceMessage, PreKeyRecord, SignedPreKeyRecord } from '../ports.js';
import type { Database, E2eeDevicesTable } from './schema.js';

type DeviceRow = Selectable<E2eeDevicesTable>;

const bytes = (value: Uint8Array) => new Uint8Array(value);

const signedKey = (id: number | null, publicKey: Uint8Array | null, signature: Uint8Array | null): SignedPreKeyRecord | null =>
  id === null || !publicKey || !signature ? null : { keyId: id, publicKey: bytes(publicKey), signature: bytes(signature) };

function toDevice(row: DeviceRow): DeviceKeysRecord {
  return {
    userId: row.user_id,
    sessionId: row.session_id,
    deviceId: row.device_id,
    registrationId: row.registration_id,
    identityAlgorithm: row.identity_algorithm,
    identityKey: bytes(row.identity_key),
    signedPreKey: signedKey(row.signed_prekey_id, row.signed_prekey, row.signed_prekey_signature)!,
    kyberPreKey: signedKey(row.kyber_prekey_id, row.kyber_prekey, row.kyber_prekey_signature),
    lastResortPreKey: signedKey(row.last_resort_prekey_id, row.last_resort_prekey, row.last_resort_prekey_signature),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const prekeyColumns = (prefix: 'signed_prekey' | 'kyber_prekey' | 'last_resort_prekey', key: SignedPreKeyRecord | null | undefined) =>
  key === undefined
    ? {}
    : { [`${prefix}_id`]: key?.keyId ?? null, [prefix]: key?.publicKey ?? null, [`${prefix}_signature`]: key?.signature ?? null };

const sameBytes = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

const UNIQUE_VIOLATION = '23505';

async function countKeys(db: Kysely<Database> | Transaction<Database>, sessionId: string): Promise<number> {
  const row = await db
    .selectFrom('e2ee_one_time_prekeys')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('session_id', '=', sessionId)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Adds keys within the cap, in a transaction that holds the device's row lock: `full` adds nothing. */
async function addKeys(trx: Transaction<Database>, sessionId: string, keys: readonly PreKeyRecord[], maxStored: number) {
  const stored = await countKeys(trx, sessionId);
  if (keys.length === 0) return { outcome: 'added' as const, count: stored };
  const existing = await trx
    .selectFrom('e2ee_one_time_prekeys')
    .select('key_id')
    .where('session_id', '=', sessionId)
    .where('key_id', 'in', keys.map((key) => key.keyId))
    .execute();
  const known = new Set(existing.map((row) => row.key_id));
  const fresh = keys.filter((key) => !known.has(key.keyId));
  if (stored + fresh.length > maxStored) return { outcome: 'full' as const, count: stored };
  if (fresh.length > 0) {
    await trx
      .insertInto('e2ee_one_time_prekeys')
      .values(fresh.map((key) => ({ session_id: sessionId, key_id: key.keyId, public_key: key.publicKey, signature: key.signature })))
      .execute();
  }
  return { outcome: 'added' as const, count: stored + fresh.length };
}

interface ClaimRow extends DeviceRow {
  otk_id: number | null;
  otk_public: Uint8Array | null;
  otk_signature: Uint8Array | null;
  stored: number;
}

export function createDeviceKeysRepository(db: Kysely<Database>): DeviceKeysRepository {
  const lockDevice = (trx: Transaction<Database>, sessionId: string) =>
    trx.selectFrom('e2ee_devices').selectAll().where('session_id', '=', sessionId).forUpdate().executeTakeFirst();

  return {
    async register(device, oneTimePreKeys, maxStored) {
      try {
        return await db.transaction().execute(async (trx) => {
          // Shares the session's row lock: a revocation committing meanwhile waits, then removes this device.
          const live = await trx
            .selectFrom('sessions')
            .select('id')
            .where('id', '=', device.sessionId)
            .where('user_id', '=', device.userId)
            .where('revoked_at', 'is', null)
            .where('expires_at', '>', device.updatedAt)
            .forShare()
            .executeTakeFirst();
          if (!live) return { outcome: 'sessionEnded' as const };
          const previousRow = await lockDevice(trx, device.sessionId);
          const previous = previousRow ? toDevice(previousRow) : null;
          const columns = {
            user_id: device.userId,
            device_id: device.deviceId,
            registration_id: device.registrationId,
            identity_algorithm: device.identityAlgorithm,
            identity_key: device.identityKey,
            ...prekeyColumns('signed_prekey', device.signedPreKey),
            ...prekeyColumns('kyber_prekey', device.kyberPreKey),
            ...prekeyColumns('last_resort_prekey', device.lastResortPreKey),
            updated_at: device.updatedAt,
          } as Omit<E2eeDevicesTable, 'session_id' | 'created_at'>;
          const row = await trx
            .insertInto('e2ee_devices')
            .values({ ...columns, session_id: device.sessionId, created_at: device.updatedAt })
            .onConflict((conflict) => conflict.column('session_id').doUpdateSet(columns))
            .returningAll()
            .executeTakeFirstOrThrow();
          const newIdentity = previous && (previous.deviceId !== device.deviceId || !sameBytes(previous.identityKey, device.identityKey));
          if (newIdentity) await trx.deleteFrom('e2ee_one_time_prekeys').where('session_id', '=', device.sessionId).execute();
          const added = await addKeys(trx, device.sessionId, oneTimePreKeys, maxStored);
          if (added.outcome === 'full') {
            // Rolls the registration back; the result is handed out by the catch below.
            throw Object.assign(new Error('one-time prekeys full'), { full: added.count });
          }
          return { outcome: 'registered' as const, device: toDevice(row), previous, oneTimePreKeyCount: added.count };
        });
      } catch (error) {
        const failure = error as { code?: string; full?: number };
        if (failure.code === UNIQUE_VIOLATION) return { outcome: 'deviceIdTaken' };
        if (failure.full !== undefined) return { outcome: 'full', count: failure.full };
        throw error;
      }
    },

    async findBySession(sessionId) {
      const row = await db.selectFrom('e2ee_devices').selectAll().where('session_id', '=', sessionId).executeTakeFirst();
      return row ? toDevice(row) : null;
    },

    async replacePreKeys(sessionId, change) {
      const row = await db
        .updateTable('e2ee_devices')
        .set({
          ...prekeyColumns('signed_prekey', change.signedPreKey),
          ...prekeyColumns('kyber_prekey', change.kyberPreKey),
          ...prekeyColumns('last_resort_prekey', change.lastResortPreKey),
          updated_at: change.at,
        })
        .where('session_id', '=', sessionId)
        .returningAll()
        .executeTakeFirst();
      return row ? toDevice(row) : null;
    },

    addOneTimePreKeys(sessionId, keys, maxStored) {
      return db.transaction().execute(async (trx) => {
        if (!(await lockDevice(trx, sessionId))) return { outcome: 'noDevice' as const };
        return addKeys(trx, sessionId, keys, maxStored);
      });
    },

    countOneTimePreKeys: (sessionId) => countKeys(db, sessionId),

    async removeBySessions(sessionIds) {
      if (sessionIds.length === 0) return [];
      const rows = await db.deleteFrom('e2ee_devices').where('session_id', 'in', sessionIds).returningAll().execute();
      return rows.map(toDevice);
    },

    async listForUser(userId, now) {
      const rows = await db
        .selectFrom('e2ee_devices as d')
        .innerJoin('sessions as s', 's.id', 'd.session_id')
        .innerJoin('users as u', 'u.id', 'd.user_id')
        .selectAll('d')
        .where('d.user_id', '=', userId)
        .where('s.revoked_at', 'is', null)
        .where('s.expires_at', '>', now)
        .where('u.status', '=', 'active')
        .orderBy('d.created_at')
        .orderBy('d.device_id')
        .execute();
      return rows.map(toDevice);
    },

    async claim(userId, options) {
      const onlyDevices = options.deviceIds ? sql`and d.device_id = any(${[...options.deviceIds]}::text[])` : sql``;
      // One statement: each device's lowest one-time prekey is locked (keys other claims hold locked are
      // skipped, so concurrent claims take different keys and none waits) and deleted, so it is handed out once.
      const { rows } = await sql<ClaimRow>`
        with target as (
          select d.* from e2ee_devices d
          join sessions s on s.id = d.session_id and s.revoked_at is null and s.expires_at > ${options.now}
          join users u on u.id = d.user_id and u.status = 'active'
          where d.user_id = ${userId} and d.session_id <> ${options.exceptSessionId} ${onlyDevices}
        ),
        picked as (
          select t.session_id, k.key_id from target t
          cross join lateral (
            select key_id from e2ee_one_time_prekeys k where k.session_id = t.session_id
            order by key_id limit 1 for update skip locked
          ) k
        ),
        claimed as (
          delete from e2ee_one_time_prekeys k using picked p
          where k.session_id = p.session_id and k.key_id = p.key_id
          returning k.session_id, k.key_id, k.public_key, k.signature
        ),
        stored as (
          select session_id, count(*)::int as n from e2ee_one_time_prekeys
          where session_id in (select session_id from target) group by session_id
        )
        select t.*, c.key_id as otk_id, c.public_key as otk_public, c.signature as otk_signature, coalesce(n.n, 0) as stored
        from target t
        left join claimed c on c.session_id = t.session_id
        left join stored n on n.session_id = t.session_id
        order by t.created_at, t.device_id`.execute(db);
      return rows.map((row) => {
        const device = toDevice(row);
        if (row.otk_id !== null && row.otk_public) {
          const signature = row.otk_signature ? bytes(row.otk_signature) : null;
          // `stored` is the count before this statement's delete.
          return { device, oneTimePreKey: { keyId: row.otk_id, publicKey: bytes(row.otk_public), signature, lastResort: false }, remaining: Math.max(0, row.stored - 1) };
        }
        return { device, oneTimePreKey: device.lastResortPreKey ? { ...device.lastResortPreKey, lastResort: true } : null, remaining: 0 };
      });
    },

    async audienceOf(userId) {
      const { rows } = await sql<{ user_id: string }>`
        select distinct other.user_id from conversation_members me
        join conversation_members other on other.conversation_id = me.conversation_id and other.left_at is null
        where me.user_id = ${userId} and me.left_at is null and other.user_id <> ${userId}`.execute(db);
      return rows.map((row) => row.user_id);
    },

    async queueToDevice(messages, maxPending, now) {
      const column = <K extends keyof NewToDeviceMessage>(key: K) => messages.map((message) => message[key]);
      const { rows } = await sql<{ session_id: string | null; queued: boolean }>`
        with input as (
          select * from unnest(
            ${column('id')}::uuid[], ${column('userId')}::uuid[], ${column('deviceId')}::text[], ${column('senderId')}::uuid[],
            ${column('senderDeviceId')}::text[], ${column('type')}::int[], ${column('body')}::text[], ${column('createdAt')}::timestamptz[]
          ) with ordinality as input (id, user_id, device_id, sender_id, sender_device_id, type, body, created_at, ord)
        ),
        target as (
          select input.*, d.session_id,
            (select count(*) from e2ee_to_device_messages q where q.session_id = d.session_id) as pending
          from input
          left join lateral (
            select d.session_id from e2ee_devices d
            join sessions s on s.id = d.session_id and s.revoked_at is null and s.expires_at > ${now}
            join users u on u.id = d.user_id and u.status = 'active'
            where d.user_id = input.user_id and d.device_id = input.device_id
          ) d on true
        ),
        inserted as (
          insert into e2ee_to_device_messages (id, session_id, sender_id, sender_device_id, type, body, created_at)
          select id, session_id, sender_id, sender_device_id, type, body, created_at from target
          where session_id is not null and pending < ${maxPending}
          order by ord
          returning id
        )
        select target.session_id, inserted.id is not null as queued
        from target left join inserted on inserted.id = target.id
        order by target.ord`.execute(db);
      return rows.map((row) => {
        if (row.queued && row.session_id) return { outcome: 'queued', sessionId: row.session_id };
        return { outcome: row.session_id ? 'queueFull' : 'noSuchDevice' };
      });
    },

    async pendingToDevice(sessionId, limit) {
      const rows = await db.selectFrom('e2ee_to_device_messages').selectAll().where('session_id', '=', sessionId).orderBy('id').limit(limit).execute();
      return rows.map((row) => ({
        id: row.id,
        senderId: row.sender_id,
        senderDeviceId: row.sender_device_id,
        type: row.type,
        body: row.body,
        createdAt: row.created_at,
      }));
    },

    async acknowledgeToDevice(sessionId, ids) {
      const result = await db.deleteFrom('e2ee_to_device_messages').where('session_id', '=', sessionId).where('id', 'in', ids).executeTakeFirst();
      return Number(result.numDeletedRows);
    },
  };
}
