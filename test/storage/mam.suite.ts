/**
 * Conformance suite of app-protection (MAM) registrations (MamRegistrationStore in
 * core/management/ports.ts): one device record per DeviceID, management mode 'mam' with no certificate,
 * never over an active MDM enrollment, and an MDM enrollment or an unenrollment ends the registration.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewMamRegistration } from '../../src/core/management/ports.js';
import type { Storage, User } from '../../src/core/ports.js';
import { openStorage } from '../../src/storage/sql/sql-storage.js';
import { newEnrollment, type StorageTestTarget } from './storage.suite.js';

const T0 = new Date('2025-03-04T05:06:07.891Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const hex = (n: number): string => randomBytes(n).toString('hex').toUpperCase();

export function mamConformanceSuite(target: StorageTestTarget): void {
  describe(`MAM registration storage conformance (${target.kind})`, () => {
    let db: { url: string; drop(): Promise<void> };
    let s: Storage;
    let alice: User;
    let bob: User;
    const registration = (overrides: Partial<NewMamRegistration> = {}): NewMamRegistration => ({
      deviceId: hex(16),
      hwDevId: hex(32),
      deviceName: 'LAPTOP-7',
      osVersion: '10.0.26100.1',
      userId: alice.id,
      upn: alice.upn,
      tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      ownershipRule: 'adding a work account is personal',
      now: T0,
      ...overrides,
    });

    beforeAll(async () => {
      db = await target.createDatabase();
      s = await openStorage(db.url);
      alice = await s.addUser({ upn: `alice-${hex(3)}@contoso.com`, displayName: null, passwordHash: 'h', now: T0 });
      bob = await s.addUser({ upn: `bob-${hex(3)}@contoso.com`, displayName: null, passwordHash: 'h', now: T0 });
    });
    afterAll(async () => {
      await s?.close();
      await db?.drop();
    });

    it('records a personal device in MAM mode with no certificate, and finds its active registration', async () => {
      const input = registration({ deviceId: `{${hex(4)}-${hex(2)}-${hex(2)}-${hex(2)}-${hex(6)}}`.toLowerCase() });
      const r = await s.recordMamRegistration(input);
      if (!r.ok) throw new Error('refused');
      const deviceId = input.deviceId.replace(/[{}]/g, '').toUpperCase();
      expect(r.device).toMatchObject({
        deviceId,
        managementMode: 'mam',
        status: 'enrolled',
        userId: alice.id,
        primaryUserId: alice.id,
        currentEnrollmentId: null,
        certThumbprint: null,
        enrollmentType: 'Full',
      });
      expect(r.registration).toMatchObject({ deviceId, userId: alice.id, status: 'active', createdAt: T0, endedAt: null });
      const found = await s.findMamRegistration(deviceId.toLowerCase());
      expect(found).toMatchObject({
        ownership: 'personal',
        registration: { id: r.registration.id },
        enrollment: { id: r.registration.id, certThumbprint: '', status: 'active' },
      });
      expect((await s.getManagedDevice(deviceId))?.enrollment.id).toBe(r.registration.id);
    });

    it('keeps one record when registered again, superseding the earlier registration', async () => {
      const input = registration();
      await s.recordMamRegistration(input);
      const again = await s.recordMamRegistration({ ...input, userId: bob.id, upn: bob.upn, now: at(1000) });
      if (!again.ok) throw new Error('refused');
      expect(again.superseded).toBe(1);
      expect(again.device.userId).toBe(bob.id);
      expect((await s.listDevices()).filter((d) => d.deviceId === input.deviceId)).toHaveLength(1);
      expect((await s.listMamRegistrations(input.deviceId)).map((r) => [r.status, r.userId])).toEqual([
        ['superseded', alice.id],
        ['active', bob.id],
      ]);
    });

    it('never registers over an active MDM enrollment; an unenrolled MDM record is reused', async () => {
      const mdm = newEnrollment({ userId: alice.id, upn: alice.upn });
      await s.recordEnrollment(mdm);
      const refused = await s.recordMamRegistration(registration({ deviceId: mdm.deviceId }));
      expect(refused).toMatchObject({ ok: false, reason: 'mdm_enrolled', device: { managementMode: 'mdm', deviceId: mdm.deviceId } });
      expect(await s.findMamRegistration(mdm.deviceId)).toBeUndefined();
      const device = await s.getDevice(mdm.deviceId);
      await s.markUnenrolled(device?.id as string, at(1));
      const reused = await s.recordMamRegistration(registration({ deviceId: mdm.deviceId, now: at(2) }));
      expect(reused).toMatchObject({
        ok: true,
        device: { id: device?.id, managementMode: 'mam', status: 'enrolled', currentEnrollmentId: null },
      });
    });

    it('an MDM enrollment turns the device back to MDM and ends the registration; unenrolling ends it too', async () => {
      const input = registration();
      const r = await s.recordMamRegistration(input);
      await s.recordEnrollment(newEnrollment({ deviceId: input.deviceId, userId: alice.id, upn: alice.upn, now: at(5) }));
      expect((await s.getDevice(input.deviceId))?.managementMode).toBe('mdm');
      expect(await s.findMamRegistration(input.deviceId)).toBeUndefined();
      expect((await s.listMamRegistrations(input.deviceId))[0]).toMatchObject({ status: 'superseded', endedAt: at(5) });

      const other = registration();
      const r2 = await s.recordMamRegistration(other);
      if (!r.ok || !r2.ok) throw new Error('refused');
      await s.markUnenrolled(r2.device.id, at(9));
      expect(await s.findMamRegistration(other.deviceId)).toBeUndefined();
      expect((await s.listMamRegistrations(other.deviceId))[0]).toMatchObject({ status: 'unenrolled', endedAt: at(9) });
      expect((await s.getDevice(other.deviceId))?.status).toBe('unenrolled');
    });

    it('stores a typed profile with its definition', async () => {
      const p = await s.saveProfile({
        name: `wip-${hex(3)}`,
        scope: 'device',
        settings: [{ path: 'Vendor/MSFT/EnterpriseDataProtection/Settings/EDPEnforcementLevel', format: 'int', value: '2' }],
        type: 'wip',
        definition: { enterpriseId: 'contoso.com', enforcement: 'override' },
        now: T0,
      });
      expect(p).toMatchObject({ type: 'wip', definition: { enterpriseId: 'contoso.com', enforcement: 'override' }, version: 1 });
      expect(await s.getProfile(p.id)).toEqual(p);
    });
  });
}
