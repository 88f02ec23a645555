/**
 * Conformance suite of available profiles (ProfileStore in core/management/ports.ts, migration 0017): an
 * assignment's intent, install requests per device, and how both shape profilesForDevice (an available
 * profile only after its install was requested on that device; required wins), on every backend.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProfileSetting } from '../../src/core/management/ports.js';
import type { Storage } from '../../src/core/ports.js';
import { NotFoundError } from '../../src/shared/errors.js';
import { openStorage } from '../../src/storage/sql/sql-storage.js';
import { newEnrollment, type StorageTestTarget } from './storage.suite.js';

const T0 = new Date('2026-11-26T10:00:00.123Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const uid = (): string => randomBytes(4).toString('hex');
const camera: ProfileSetting = { path: 'Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value: '0' };

export function availableProfilesConformanceSuite(target: StorageTestTarget): void {
  describe(`available profiles storage conformance (${target.kind})`, () => {
    let db: { url: string; drop(): Promise<void> };
    let s: Storage;

    beforeAll(async () => {
      db = await target.createDatabase();
      s = await openStorage(db.url);
    });
    afterAll(async () => {
      await s?.close();
      await db?.drop();
    });

    const person = async (tag: string) =>
      (await s.addUser({ upn: `${tag}-${uid()}@contoso.com`, displayName: null, passwordHash: 'h', now: T0 })).id;
    /** A device enrolled by `userId`, who is its primary user. */
    const owned = async (userId: string, now = T0) => {
      const r = await s.recordEnrollment(newEnrollment({ userId, now }));
      await s.setPrimaryUser(r.device.id, userId);
      return r.device.id;
    };
    const names = (rows: Array<{ profile: { name: string }; forUserId: string | null }>) => rows.map((r) => [r.profile.name, r.forUserId]);

    it('keeps the intent per assignment: required by default, changed by assigning again', async () => {
      const g = await s.addGroup({ name: `g-${uid()}`, now: T0 });
      const p = await s.saveProfile({ name: `vpn-${uid()}`, scope: 'device', settings: [camera], now: T0 });
      await s.assignProfile(p.id, { kind: 'group', groupId: g.id }, T0);
      expect(await s.listAssignmentIntents(p.id)).toEqual([{ target: { kind: 'group', groupId: g.id }, intent: 'required' }]);
      await s.assignProfile(p.id, { kind: 'group', groupId: g.id }, at(1), 'available');
      expect(await s.listAssignmentIntents(p.id)).toEqual([{ target: { kind: 'group', groupId: g.id }, intent: 'available' }]);
      // The older listing is unchanged in shape.
      expect(await s.listAssignments(p.id)).toEqual([{ kind: 'group', groupId: g.id }]);
    });

    it('delivers an available profile only after its install was requested on that device; required wins', async () => {
      const alice = await person('alice');
      const parent = await s.addGroup({ name: `parent-${uid()}`, now: T0 });
      const child = await s.addGroup({ name: `child-${uid()}`, now: T0 });
      await s.addGroupToGroup(parent.id, child.id);
      await s.addGroupMember(child.id, alice);
      const d1 = await owned(alice);
      const d2 = await owned(alice);
      const offered = await s.saveProfile({ name: `a-offered-${uid()}`, scope: 'device', settings: [camera], now: T0 });
      const both = await s.saveProfile({ name: `b-both-${uid()}`, scope: 'device', settings: [camera], now: T0 });
      await s.assignProfile(offered.id, { kind: 'group', groupId: parent.id }, T0, 'available');
      await s.assignProfile(both.id, { kind: 'group', groupId: parent.id }, T0, 'available');
      await s.assignProfile(both.id, { kind: 'group', groupId: child.id }, T0, 'required');

      expect(names(await s.profilesForDevice(d1, []))).toEqual([[both.name, null]]);
      expect((await s.profilesForUser(alice)).map((x) => [x.profile.name, x.intent])).toEqual([
        [offered.name, 'available'],
        [both.name, 'required'],
      ]);

      await s.requestProfileInstall({ devicePk: d1, profileId: offered.id, userId: alice, now: at(5) });
      expect(names(await s.profilesForDevice(d1, []))).toEqual([
        [offered.name, null],
        [both.name, null],
      ]);
      // Requested on d1 only.
      expect(names(await s.profilesForDevice(d2, []))).toEqual([[both.name, null]]);
      expect(await s.listProfileInstallRequests(d1)).toEqual([{ devicePk: d1, profileId: offered.id, userId: alice, requestedAt: at(5) }]);
      expect(await s.listProfileInstallRequests(d2)).toEqual([]);

      // Asking again renews the request (one row).
      await s.requestProfileInstall({ devicePk: d1, profileId: offered.id, userId: alice, now: at(9) });
      expect((await s.listProfileInstallRequests(d1)).map((r) => r.requestedAt)).toEqual([at(9)]);

      // The last available assignment goes: so do the delivery and the request, so offering the profile again
      // later does not reach d1 without a new Install.
      await s.unassignProfile(offered.id, { kind: 'group', groupId: parent.id });
      expect(names(await s.profilesForDevice(d1, []))).toEqual([[both.name, null]]);
      expect(await s.listProfileInstallRequests(d1)).toEqual([]);
      await s.assignProfile(offered.id, { kind: 'group', groupId: parent.id }, at(10), 'available');
      expect(names(await s.profilesForDevice(d1, []))).toEqual([[both.name, null]]);
      await s.unassignProfile(offered.id, { kind: 'group', groupId: parent.id });
      // Assigned required again: everybody gets it, requested or not.
      await s.assignProfile(offered.id, { kind: 'group', groupId: child.id }, at(10));
      expect(names(await s.profilesForDevice(d2, []))).toEqual([
        [offered.name, null],
        [both.name, null],
      ]);
    });

    it('delivers a user-scope available profile to the user who asked for it only', async () => {
      const alice = await person('alice');
      const bob = await person('bob');
      const g = await s.addGroup({ name: `g-${uid()}`, now: T0 });
      await s.addGroupMember(g.id, alice);
      await s.addGroupMember(g.id, bob);
      const d = await owned(alice);
      const p = await s.saveProfile({ name: `user-${uid()}`, scope: 'user', settings: [camera], now: T0 });
      await s.assignProfile(p.id, { kind: 'group', groupId: g.id }, T0, 'available');
      expect(await s.profilesForDevice(d, [alice, bob])).toEqual([]);
      await s.requestProfileInstall({ devicePk: d, profileId: p.id, userId: alice, now: T0 });
      expect(names(await s.profilesForDevice(d, [alice, bob]))).toEqual([[p.name, alice]]);
    });

    it('refuses a request for an unknown device or profile, and forgets requests with their profile', async () => {
      const alice = await person('alice');
      const d = await owned(alice);
      const p = await s.saveProfile({ name: `gone-${uid()}`, scope: 'device', settings: [camera], now: T0 });
      await expect(
        s.requestProfileInstall({ devicePk: `missing-${uid()}`, profileId: p.id, userId: alice, now: T0 }),
      ).rejects.toBeInstanceOf(NotFoundError);
      await expect(s.requestProfileInstall({ devicePk: d, profileId: `missing-${uid()}`, userId: alice, now: T0 })).rejects.toBeInstanceOf(
        NotFoundError,
      );
      await s.requestProfileInstall({ devicePk: d, profileId: p.id, userId: alice, now: T0 });
      await s.deleteProfile(p.id);
      expect(await s.listProfileInstallRequests(d)).toEqual([]);
    });

    it('moves install requests when an older record of the same machine is folded into the new one', async () => {
      const alice = await person('alice');
      const old = await owned(alice, T0);
      const fresh = await owned(alice, at(60_000));
      const p = await s.saveProfile({ name: `kept-${uid()}`, scope: 'device', settings: [camera], now: T0 });
      await s.requestProfileInstall({ devicePk: old, profileId: p.id, userId: alice, now: at(1) });
      const serialNumber = `SN-${uid()}`;
      const entraDeviceId = randomUUID();
      await s.updateInventory(old, { serialNumber, entraDeviceId }, at(2));
      await s.updateInventory(fresh, { serialNumber, entraDeviceId }, at(60_001));
      expect(await s.listProfileInstallRequests(fresh)).toEqual([{ devicePk: fresh, profileId: p.id, userId: alice, requestedAt: at(1) }]);
      expect(await s.listProfileInstallRequests(old)).toEqual([]);
    });
  });
}
