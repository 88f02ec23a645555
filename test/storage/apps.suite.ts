/**
 * Conformance suite of the app catalog (AppStore in core/apps/ports.ts): apps by id or name, unique names,
 * assignments to groups with one intent each, transitive membership through nested groups (required
 * wins over available), and removal of an app or a group taking its assignments along; each assignment
 * reaching a user with its group (uninstall intents kept from the portal's list), and per-app install
 * counts from each device's newest app command and the result its background install reported.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppDefinition, installCommand, uninstallCommand } from '../../src/core/apps/catalog.js';
import type { Storage } from '../../src/core/ports.js';
import { ConflictError } from '../../src/shared/errors.js';
import { openStorage } from '../../src/storage/sql/sql-storage.js';
import { type StorageTestTarget, newEnrollment } from './storage.suite.js';

const T0 = new Date('2026-11-26T10:00:00.123Z');
const hex = (n: number): string => randomBytes(n).toString('hex');

const store = (name: string, minWindowsBuild = 10240): AppDefinition => ({
  name,
  publisher: 'Contoso',
  version: '1.0',
  kind: 'store',
  packageFamilyName: 'Contoso.App_8wekyb3d8bbwe',
  storeProductId: '9WZDNCRFJ3PZ',
  minWindowsBuild,
});

export function appsConformanceSuite(target: StorageTestTarget): void {
  describe(`app catalog storage conformance (${target.kind})`, () => {
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

    it('adds apps, finds them by id or name (any case) and refuses a second app of the same name', async () => {
      const a = await s.addApp({ ...store('Notes'), now: T0 });
      expect(a).toMatchObject({ name: 'Notes', kind: 'store', minWindowsBuild: 10240, packageFamilyName: 'Contoso.App_8wekyb3d8bbwe' });
      expect(a.createdAt.toISOString()).toBe(T0.toISOString());
      expect((await s.getApp(a.id))?.name).toBe('Notes');
      expect((await s.getApp('NOTES'))?.id).toBe(a.id);
      await expect(s.addApp({ ...store('notes'), now: T0 })).rejects.toBeInstanceOf(ConflictError);
      expect(await s.getApp('nothing')).toBeUndefined();
    });

    it('assigns through nested groups, required winning, and cleans up on removal', async () => {
      const u = await s.addUser({ upn: `u-${hex(3)}@contoso.com`, displayName: null, passwordHash: 'h', now: T0 });
      const other = await s.addUser({ upn: `o-${hex(3)}@contoso.com`, displayName: null, passwordHash: 'h', now: T0 });
      const parent = await s.addGroup({ name: `parent-${hex(3)}`, now: T0 });
      const child = await s.addGroup({ name: `child-${hex(3)}`, now: T0 });
      await s.addGroupToGroup(parent.id, child.id);
      await s.addGroupMember(child.id, u.id);
      const vpn = await s.addApp({ ...store(`VPN ${hex(2)}`), now: T0 });
      const zed = await s.addApp({ ...store(`Zed ${hex(2)}`, 22000), now: T0 });
      await s.assignApp({ appId: vpn.id, groupId: parent.id, intent: 'available', now: T0 });
      await s.assignApp({ appId: vpn.id, groupId: child.id, intent: 'required', now: T0 });
      await s.assignApp({ appId: zed.id, groupId: parent.id, intent: 'available', now: T0 });
      expect((await s.appsForUser(u.id)).map((x) => [x.app.name, x.intent])).toEqual([
        [vpn.name, 'required'],
        [zed.name, 'available'],
      ]);
      expect(await s.appsForUser(other.id)).toEqual([]);
      // Changing the intent replaces the assignment.
      await s.assignApp({ appId: vpn.id, groupId: child.id, intent: 'available', now: T0 });
      expect((await s.listAppAssignments(vpn.id)).map((x) => [x.groupName, x.intent]).sort()).toEqual(
        [
          [child.name, 'available'],
          [parent.name, 'available'],
        ].sort(),
      );
      expect(await s.unassignApp(vpn.id, child.id)).toBe(true);
      expect(await s.unassignApp(vpn.id, child.id)).toBe(false);
      expect(await s.removeApp(zed.id)).toBe(true);
      expect(await s.removeApp(zed.id)).toBe(false);
      expect((await s.appsForUser(u.id)).map((x) => x.app.name)).toEqual([vpn.name]);
      expect((await s.listAppAssignments()).filter((x) => x.appId === zed.id)).toEqual([]);
      await expect(s.assignApp({ appId: vpn.id, groupId: 'no-such-group', intent: 'required', now: T0 })).rejects.toThrow();
    });

    it('lists each assignment reaching a user with its group, and leaves apps to uninstall out of the offered list', async () => {
      const u = await s.addUser({ upn: `w-${hex(3)}@contoso.com`, displayName: null, passwordHash: 'h', now: T0 });
      const outer = await s.addGroup({ name: `a-outer-${hex(3)}`, now: T0 });
      const inner = await s.addGroup({ name: `b-inner-${hex(3)}`, now: T0 });
      await s.addGroupToGroup(outer.id, inner.id);
      await s.addGroupMember(inner.id, u.id);
      await s.addGroupMember(outer.id, u.id); // two paths to outer: still one row per assignment
      const keep = await s.addApp({ ...store(`Keep ${hex(2)}`), now: T0 });
      const gone = await s.addApp({ ...store(`Gone ${hex(2)}`), now: T0 });
      await s.assignApp({ appId: keep.id, groupId: outer.id, intent: 'available', now: T0 });
      await s.assignApp({ appId: keep.id, groupId: inner.id, intent: 'required', now: T0 });
      await s.assignApp({ appId: gone.id, groupId: outer.id, intent: 'available', now: T0 });
      await s.assignApp({ appId: gone.id, groupId: inner.id, intent: 'uninstall', now: T0 });
      const rows = await s.appAssignmentsForUser(u.id);
      expect(rows.map((r) => [r.app.name, r.groupName, r.intent])).toEqual([
        [gone.name, outer.name, 'available'],
        [gone.name, inner.name, 'uninstall'],
        [keep.name, outer.name, 'available'],
        [keep.name, inner.name, 'required'],
      ]);
      expect(rows[0]?.groupId).toBe(outer.id);
      expect((await s.appsForUser(u.id)).map((x) => [x.app.name, x.intent])).toEqual([[keep.name, 'required']]);
    });

    it('counts devices per app by their newest app command and its background result, in one aggregate', async () => {
      const a = await s.addApp({ ...store(`Counted ${hex(2)}`), now: T0 });
      const b = await s.addApp({ ...store(`Other ${hex(2)}`), now: T0 });
      const device = async () => (await s.recordEnrollment(newEnrollment())).device.id;
      const answered = async (pk: string, status: number, app = a) => {
        const [c] = await s.enqueue(pk, [installCommand(app, app.id, 'required')], T0);
        if (!c) throw new Error('not queued');
        await s.markSent([c.id], 'k', 1, T0);
        await s.recordStatus(pk, c.id, status, T0);
        return c;
      };
      const result = (pk: string, c: { id: string }, state: 'installing' | 'installed' | 'failed', code: number | null) =>
        s.recordAppResult({ commandId: c.id, devicePk: pk, appId: a.id, state, code, detail: null, updatedAt: T0 });

      const installing = await device(); // accepted (202), no result yet: pending
      await result(installing, await answered(installing, 202), 'installing', null);
      const installed = await device(); // accepted, then reported installed
      await result(installed, await answered(installed, 202), 'installed', 0);
      const synchronous = await device(); // acknowledged, no background result (not an async install): installed
      await answered(synchronous, 200);
      const refused = await device(); // the device refused the Exec: failed
      await answered(refused, 500);
      const reported = await device(); // accepted, then reported failed with an HRESULT (needs 64-bit storage)
      const reportedCmd = await answered(reported, 202);
      await result(reported, reportedCmd, 'failed', 0x80070643);
      const removed = await device(); // installed, then removed: not counted
      await answered(removed, 200);
      await s.enqueue(removed, [uninstallCommand(a.id, { app: a })], T0);
      const queued = await device(); // queued, and a removal queued then canceled: pending
      await s.enqueue(queued, [installCommand(a, a.id, 'user'), uninstallCommand(a.id, { app: a })], T0);
      await s.cancelPending(queued, { origin: { kind: 'action', actionId: `uninstall-${a.id}` } }, T0);
      await s.enqueue(queued, [installCommand(b, b.id, 'user')], T0);
      await s.enqueue(queued, [{ verb: 'Get', item: { locUri: './DevDetail/SwV' }, userId: null, origin: { kind: 'inventory' } }], T0);

      const counts = await s.appInstallCounts();
      expect(counts.get(a.id)).toEqual({ installed: 2, failed: 2, pending: 2 });
      expect(counts.get(b.id)).toEqual({ installed: 0, failed: 0, pending: 1 });
      expect(await s.appResultsFor(reported, [reportedCmd.id, 'none'])).toEqual([
        { commandId: reportedCmd.id, devicePk: reported, appId: a.id, state: 'failed', code: 0x80070643, detail: null, updatedAt: T0 },
      ]);
      // A result is replaced, not added to.
      await result(reported, reportedCmd, 'installed', 0);
      expect((await s.appInstallCounts()).get(a.id)).toEqual({ installed: 3, failed: 1, pending: 2 });
      // Deleting the device takes its results along.
      await s.deleteDevice(reported);
      expect(await s.appResultsFor(reported, [reportedCmd.id])).toEqual([]);
    });
  });
}
