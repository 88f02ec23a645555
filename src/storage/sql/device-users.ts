/**
 * SQL repository of a device's users (port DeviceUserStore in core/management/ports.ts): the primary user
 * column of `devices` and the sign-in sightings in `device_users`. Free functions over a Kysely handle;
 * SqlStorage wraps each in its error mapping.
 */
import { type Kysely, sql } from 'kysely';
import type { DeviceUser } from '../../core/management/ports.js';
import type { DeviceRecord } from '../../core/ports.js';
import { NotFoundError } from '../../shared/errors.js';
import { timeFromDb, timeToDb } from './codecs.js';
import { selectDevices, withWarnings } from './rows.js';
import type { Database } from './schema.js';

type Db = Kysely<Database>;

export async function setPrimaryUser(db: Db, devicePk: string, userId: string | null): Promise<void> {
  await db.transaction().execute(async (trx) => {
    if (userId !== null) {
      const user = await trx.selectFrom('users').select('id').where('id', '=', userId).executeTakeFirst();
      if (!user) throw new NotFoundError(`user ${userId} does not exist`);
    }
    const res = await trx.updateTable('devices').set({ primary_user_id: userId }).where('id', '=', devicePk).executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw new NotFoundError(`device ${devicePk} does not exist`);
  });
}

/** One statement: concurrent sessions of the same user on one device both land, last sighting wins forward. */
export async function recordDeviceUser(db: Db, devicePk: string, userId: string, now: Date): Promise<void> {
  const at = timeToDb(now);
  await db
    .insertInto('device_users')
    .values({ device_pk: devicePk, user_id: userId, first_seen_at: at, last_seen_at: at })
    .onConflict((oc) =>
      oc.columns(['device_pk', 'user_id']).doUpdateSet({
        // ISO-8601 text compares in time order; a late-arriving older sighting never moves it back.
        last_seen_at: sql<string>`case when device_users.last_seen_at < ${at} then ${at} else device_users.last_seen_at end`,
        first_seen_at: sql<string>`case when device_users.first_seen_at > ${at} then ${at} else device_users.first_seen_at end`,
      }),
    )
    .execute();
}

export async function listDeviceUsers(db: Db, devicePk: string): Promise<DeviceUser[]> {
  const rows = await db
    .selectFrom('device_users as du')
    .innerJoin('users as u', 'u.id', 'du.user_id')
    .select(['du.user_id', 'u.upn', 'u.display_name', 'du.first_seen_at', 'du.last_seen_at'])
    .where('du.device_pk', '=', devicePk)
    .orderBy('du.last_seen_at', 'desc')
    .orderBy('u.upn')
    .execute();
  return rows.map((r) => ({
    userId: r.user_id,
    upn: r.upn,
    displayName: r.display_name,
    firstSeenAt: timeFromDb(r.first_seen_at),
    lastSeenAt: timeFromDb(r.last_seen_at),
  }));
}

/**
 * "My devices": the devices a user is the primary user of or enrolled, and shared devices (no primary user)
 * they signed in to. Three lookups on indexed columns (devices.primary_user_id, devices.user_id,
 * device_users.user_id) joined by UNION, so the answer does not read the whole fleet.
 */
export async function listDevicesOfUser(db: Db, userId: string): Promise<DeviceRecord[]> {
  const rows = await selectDevices(db)
    .where('d.id', 'in', (eb) =>
      eb
        .selectFrom('devices')
        .select('id')
        .where('primary_user_id', '=', userId)
        .union(eb.selectFrom('devices').select('id').where('user_id', '=', userId))
        .union(
          eb
            .selectFrom('device_users as du')
            .innerJoin('devices as sd', 'sd.id', 'du.device_pk')
            .select('du.device_pk as id')
            .where('du.user_id', '=', userId)
            .where('sd.primary_user_id', 'is', null),
        ),
    )
    .orderBy('d.first_enrolled_at')
    .orderBy('d.device_id')
    .execute();
  return withWarnings(db, rows);
}
