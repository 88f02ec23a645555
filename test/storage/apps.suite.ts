/**
 * Conformance suite of the app catalog (AppStore in core/apps/ports.ts): apps by id or name, unique names,
 * assignments to groups with one intent each, transitive membership through nested groups (required
 * wins over available), and removal of an app or a group taking its assignments along.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppDefinition } from '../../src/core/apps/catalog.js';
import type { Storage } from '../../src/core/ports.js';
import { ConflictError } from '../../src/shared/errors.js';
import { openStorage } from '../../src/storage/sql/sql-storage.js';
import type { StorageTestTarget } from './storage.suite.js';

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
  });
}
