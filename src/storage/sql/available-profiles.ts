/**
 * Available profiles (core/management/ports.ts ProfileStore): which profiles reach a user through their
 * groups and with what intent, and the install requests end users make in the Company Portal. Delivery
 * itself is decided in profilesForDevice (management.ts), which reads the requests.
 */
import { type Kysely, type Selectable, sql } from 'kysely';
import type { AssignmentTarget, Profile, ProfileInstallRequest, ProfileIntent } from '../../core/management/ports.js';
import { timeFromDb, timeToDb } from './codecs.js';
import { groupsOfUsers } from './group-closure.js';
import { toProfile } from './management.js';
import type { Database, ProfilesTable } from './schema.js';

type Db = Kysely<Database>;

export async function profilesForUser(db: Db, userId: string): Promise<Array<{ profile: Profile; intent: ProfileIntent }>> {
  const rows = await sql<Selectable<ProfilesTable> & { intent: string }>`
    select p.*, a.intent from profile_assignments a
    join ${groupsOfUsers([userId])} as ug on ug.group_id = a.group_id
    join profiles p on p.id = a.profile_id
    where a.target_kind = 'group'`.execute(db);
  const out = new Map<string, { profile: Profile; intent: ProfileIntent }>();
  for (const { intent, ...r } of rows.rows) {
    const prev = out.get(r.id);
    if (!prev) out.set(r.id, { profile: toProfile(r), intent: intent === 'available' ? 'available' : 'required' });
    else if (intent !== 'available') prev.intent = 'required';
  }
  return [...out.values()].sort((a, b) => (a.profile.name < b.profile.name ? -1 : a.profile.name > b.profile.name ? 1 : 0));
}

export async function requestProfileInstall(
  db: Db,
  input: { devicePk: string; profileId: string; userId: string; now: Date },
): Promise<void> {
  const at = timeToDb(input.now);
  await db
    .insertInto('profile_install_requests')
    .values({ device_pk: input.devicePk, profile_id: input.profileId, user_id: input.userId, requested_at: at })
    .onConflict((oc) => oc.columns(['device_pk', 'profile_id']).doUpdateSet({ user_id: input.userId, requested_at: at }))
    .execute();
}

export async function listProfileInstallRequests(db: Db, devicePk: string): Promise<ProfileInstallRequest[]> {
  const rows = await db
    .selectFrom('profile_install_requests')
    .selectAll()
    .where('device_pk', '=', devicePk)
    .orderBy('requested_at')
    .orderBy('profile_id')
    .execute();
  return rows.map((r) => ({ devicePk: r.device_pk, profileId: r.profile_id, userId: r.user_id, requestedAt: timeFromDb(r.requested_at) }));
}

export async function listAssignmentIntents(
  db: Db,
  profileId: string,
): Promise<Array<{ target: AssignmentTarget; intent: ProfileIntent }>> {
  const rows = await db
    .selectFrom('profile_assignments')
    .select(['target_kind', 'target_ref', 'intent'])
    .where('profile_id', '=', profileId)
    .orderBy('created_at')
    .orderBy('target_kind')
    .orderBy('target_ref')
    .execute();
  return rows.map((r) => ({
    target: r.target_kind === 'group' ? { kind: 'group', groupId: r.target_ref } : { kind: 'device', devicePk: r.target_ref },
    intent: r.intent === 'available' ? 'available' : 'required',
  }));
}
