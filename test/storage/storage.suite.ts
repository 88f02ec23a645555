/**
 * The storage conformance suite (nanomdm style): every backend runs exactly these tests. Each engine's
 * test file passes a target that can create fresh, empty databases.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { NewEnrollment, Storage } from '../../src/core/ports.js';
import { ConflictError, NotFoundError, WinrollError } from '../../src/shared/errors.js';
import { migrationStatus, openStorage } from '../../src/storage/sql/sql-storage.js';

export interface StorageTestTarget {
  kind: 'sqlite' | 'postgres';
  /** A new, empty database: its URL for openStorage, and how to remove it. */
  createDatabase(): Promise<{ url: string; drop(): Promise<void> }>;
}

const T0 = new Date('2025-03-04T05:06:07.891Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
const uid = (): string => hex(4);

/** A complete enrollment with unique certificate identifiers; override what the test cares about. */
export function newEnrollment(overrides: Partial<NewEnrollment> = {}): NewEnrollment {
  const der = randomBytes(64);
  return {
    deviceId: hex(16).toUpperCase(),
    hwDevId: hex(32).toUpperCase(),
    userId: `user-${uid()}`,
    upn: `alice-${uid()}@contoso.com`,
    enrollmentType: 'Full',
    authPolicy: 'OnPremise',
    deviceName: 'DESKTOP-1',
    osVersion: '10.0.26100.1',
    osEdition: 48,
    locale: 'en-US',
    macAddresses: ['00:11:22:33:44:55'],
    certSerial: `7f${hex(15)}`,
    certThumbprint: hex(20).toUpperCase(),
    certNotBefore: at(-60_000),
    certNotAfter: at(365 * 86_400_000 + 123),
    certDer: new Uint8Array(der),
    now: T0,
    ...overrides,
  };
}

async function expectCode(p: Promise<unknown>, code: string, cls?: abstract new (...a: never[]) => Error): Promise<WinrollError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a ${code} error`).toBeInstanceOf(WinrollError);
  if (cls) expect(err).toBeInstanceOf(cls);
  expect((err as WinrollError).code).toBe(code);
  return err as WinrollError;
}

export function storageConformanceSuite(target: StorageTestTarget): void {
  describe(`Storage conformance (${target.kind})`, () => {
    let database: { url: string; drop(): Promise<void> };
    let s: Storage;
    const extra: Array<{ drop(): Promise<void> }> = [];
    const handles: Storage[] = [];

    async function open(url = database.url): Promise<Storage> {
      const h = await openStorage(url);
      handles.push(h);
      return h;
    }

    beforeAll(async () => {
      database = await target.createDatabase();
      s = await open();
    });

    afterAll(async () => {
      for (const h of handles) await h.close().catch(() => {});
      await database?.drop();
      for (const d of extra) await d.drop();
    });

    it('reports its kind', () => {
      expect(s.kind).toBe(target.kind);
    });

    describe('domains', () => {
      it('adds lower-cased, reads back case-insensitively, keeps ms timestamps', async () => {
        const name = `Contoso-${uid()}.COM`;
        const created = await s.addDomain({ name, authPolicy: 'OnPremise', now: T0 });
        expect(created).toEqual({ name: name.toLowerCase(), authPolicy: 'OnPremise', createdAt: T0 });
        const got = await s.getDomain(name.toUpperCase());
        expect(got).toEqual(created);
        expect(got?.createdAt.getTime()).toBe(T0.getTime());
        expect(await s.getDomain(`missing-${uid()}.com`)).toBeUndefined();
      });

      it('rejects a duplicate (any case) with ConflictError', async () => {
        const name = `dup-${uid()}.com`;
        await s.addDomain({ name, authPolicy: 'OnPremise', now: T0 });
        await expectCode(s.addDomain({ name: name.toUpperCase(), authPolicy: 'Federated', now: at(1) }), 'conflict', ConflictError);
        expect((await s.getDomain(name))?.authPolicy).toBe('OnPremise');
      });

      it('lists domains sorted by name', async () => {
        const p = `list-${uid()}`;
        for (const n of ['c', 'a', 'b']) await s.addDomain({ name: `${n}.${p}.com`, authPolicy: 'OnPremise', now: T0 });
        const names = (await s.listDomains()).map((d) => d.name).filter((n) => n.endsWith(`${p}.com`));
        expect(names).toEqual([`a.${p}.com`, `b.${p}.com`, `c.${p}.com`]);
        const all = (await s.listDomains()).map((d) => d.name);
        expect(all).toEqual([...all].sort());
      });

      it('changes the auth policy, or throws NotFoundError', async () => {
        const name = `policy-${uid()}.com`;
        await s.addDomain({ name, authPolicy: 'OnPremise', now: T0 });
        const updated = await s.setDomainAuthPolicy(name.toUpperCase(), 'Federated');
        expect(updated).toEqual({ name, authPolicy: 'Federated', createdAt: T0 });
        expect((await s.getDomain(name))?.authPolicy).toBe('Federated');
        await expectCode(s.setDomainAuthPolicy(`nope-${uid()}.com`, 'Federated'), 'not_found', NotFoundError);
      });

      it('lets exactly one of two concurrent adds of one domain win', async () => {
        const name = `race-${uid()}.com`;
        const results = await Promise.allSettled([
          s.addDomain({ name, authPolicy: 'OnPremise', now: T0 }),
          s.addDomain({ name, authPolicy: 'OnPremise', now: T0 }),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const rejected = results.find((r) => r.status === 'rejected');
        expect(rejected?.reason).toBeInstanceOf(ConflictError);
      });
    });

    describe('users', () => {
      it('adds with a lower-cased UPN, enabled, and finds by UPN (any case) and id', async () => {
        const upn = `Bob.${uid()}@Contoso.COM`;
        const u = await s.addUser({ upn, displayName: 'Bob Builder', passwordHash: 'scrypt$abc', now: T0 });
        expect(u).toMatchObject({
          upn: upn.toLowerCase(),
          displayName: 'Bob Builder',
          passwordHash: 'scrypt$abc',
          enabled: true,
          createdAt: T0,
          updatedAt: T0,
        });
        expect(typeof u.id).toBe('string');
        expect(u.id.length).toBeGreaterThan(0);
        expect(await s.getUserByUpn(upn.toUpperCase())).toEqual(u);
        expect(await s.getUserById(u.id)).toEqual(u);
        expect(await s.getUserById(`missing-${uid()}`)).toBeUndefined();
        expect(await s.getUserByUpn(`missing-${uid()}@contoso.com`)).toBeUndefined();
      });

      it('keeps a null display name', async () => {
        const u = await s.addUser({ upn: `n-${uid()}@contoso.com`, displayName: null, passwordHash: 'h', now: T0 });
        expect((await s.getUserById(u.id))?.displayName).toBeNull();
      });

      it('rejects a duplicate UPN (any case) with ConflictError and writes nothing', async () => {
        const upn = `carol-${uid()}@contoso.com`;
        await s.addUser({ upn, displayName: null, passwordHash: 'h1', now: T0 });
        await expectCode(
          s.addUser({ upn: upn.toUpperCase(), displayName: 'x', passwordHash: 'h2', now: at(5) }),
          'conflict',
          ConflictError,
        );
        const matching = (await s.listUsers()).filter((u) => u.upn === upn);
        expect(matching).toHaveLength(1);
        expect(matching[0]?.passwordHash).toBe('h1');
      });

      it('lets exactly one of several concurrent adds of one UPN win', async () => {
        const upn = `race-${uid()}@contoso.com`;
        const results = await Promise.allSettled(
          Array.from({ length: 5 }, () => s.addUser({ upn, displayName: null, passwordHash: 'h', now: T0 })),
        );
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConflictError);
      });

      it('lists users sorted by UPN', async () => {
        const d = `${uid()}.example`;
        for (const n of ['zed', 'amy', 'max']) await s.addUser({ upn: `${n}@${d}`, displayName: null, passwordHash: 'h', now: T0 });
        const ours = (await s.listUsers()).map((u) => u.upn).filter((u) => u.endsWith(`@${d}`));
        expect(ours).toEqual([`amy@${d}`, `max@${d}`, `zed@${d}`]);
        for (const u of await s.listUsers()) expect(typeof u.enabled).toBe('boolean');
      });
    });

    describe('enrollments', () => {
      it('records a first enrollment and normalises identifiers', async () => {
        const input = newEnrollment({
          deviceId: hex(16).toLowerCase(),
          hwDevId: hex(32).toLowerCase(),
          upn: `Dave-${uid()}@Contoso.com`,
          certSerial: `7F${hex(15).toUpperCase()}`,
          certThumbprint: hex(20).toLowerCase(),
        });
        const r = await s.recordEnrollment(input);
        const deviceId = input.deviceId.toUpperCase();
        const hw = input.hwDevId?.toUpperCase();
        expect(r.superseded).toEqual([]);
        expect(r.sharedHwDevIdWith).toEqual([]);
        expect(r.enrollment).toMatchObject({
          devicePk: r.device.id,
          deviceId,
          userId: input.userId,
          upn: input.upn.toLowerCase(),
          enrollmentType: 'Full',
          authPolicy: 'OnPremise',
          status: 'active',
          hwDevId: hw,
          deviceName: 'DESKTOP-1',
          osVersion: '10.0.26100.1',
          osEdition: 48,
          certSerial: input.certSerial.toLowerCase(),
          certThumbprint: input.certThumbprint.toUpperCase(),
          certNotBefore: input.certNotBefore,
          certNotAfter: input.certNotAfter,
          createdAt: T0,
          supersededAt: null,
          method: 'manual',
          entraDeviceId: null,
        });
        expect(r.matchedBy).toBeNull();
        expect(r.device).toEqual({
          id: r.device.id,
          deviceId,
          hwDevId: hw,
          deviceName: 'DESKTOP-1',
          osVersion: '10.0.26100.1',
          osEdition: 48,
          enrollmentType: 'Full',
          userId: input.userId,
          upn: input.upn.toLowerCase(),
          // Set by the enrollment service after recording (primary-user.ts), not by the record itself.
          primaryUserId: null,
          primaryUpn: null,
          managementMode: 'mdm',
          // Inventory and join tokens fill these in (S16 identity).
          serialNumber: null,
          entraDeviceId: null,
          status: 'enrolled',
          firstEnrolledAt: T0,
          lastEnrolledAt: T0,
          currentEnrollmentId: r.enrollment.id,
          certSerial: input.certSerial.toLowerCase(),
          certThumbprint: input.certThumbprint.toUpperCase(),
          certNotAfter: input.certNotAfter,
          warnings: [],
        });
        expect(await s.getDevice(input.deviceId.toLowerCase())).toEqual(r.device);
        expect(await s.listEnrollments(input.deviceId.toLowerCase())).toEqual([r.enrollment]);
        expect(await s.hwDevIdHistory(deviceId)).toEqual([{ hwDevId: hw, firstSeenAt: T0, lastSeenAt: T0 }]);
        expect(await s.certSerialExists(input.certSerial)).toBe(true);
        expect(await s.certSerialExists(input.certSerial.toLowerCase())).toBe(true);
        expect(await s.certSerialExists(`7f${hex(15)}`)).toBe(false);
      });

      it('returns nothing for an unknown device', async () => {
        const id = hex(16).toUpperCase();
        expect(await s.getDevice(id)).toBeUndefined();
        expect(await s.listEnrollments(id)).toEqual([]);
        expect(await s.hwDevIdHistory(id)).toEqual([]);
      });

      it('keeps nullable fields null and a GUID-style DeviceID intact (upper-cased)', async () => {
        const guid = `{${crypto.randomUUID()}}`;
        const r = await s.recordEnrollment(
          newEnrollment({
            deviceId: guid,
            hwDevId: null,
            deviceName: null,
            osVersion: null,
            osEdition: null,
            locale: null,
            macAddresses: [],
            enrollmentType: 'Device',
          }),
        );
        expect(r.device).toMatchObject({
          deviceId: guid.toUpperCase(),
          hwDevId: null,
          deviceName: null,
          osVersion: null,
          osEdition: null,
          enrollmentType: 'Device',
        });
        expect(r.enrollment).toMatchObject({ hwDevId: null, deviceName: null, osVersion: null, osEdition: null });
        expect(await s.hwDevIdHistory(guid)).toEqual([]);
        expect((await s.getDevice(guid.toLowerCase()))?.id).toBe(r.device.id);
      });

      it('supersedes on re-enrollment and keeps one device record', async () => {
        const first = newEnrollment({ now: at(0) });
        const r1 = await s.recordEnrollment(first);
        const second = newEnrollment({
          deviceId: first.deviceId.toLowerCase(),
          hwDevId: first.hwDevId,
          deviceName: 'DESKTOP-RENAMED',
          osVersion: '10.0.26100.2',
          upn: `new-${uid()}@contoso.com`,
          userId: `user-${uid()}`,
          now: at(60_000),
        });
        const r2 = await s.recordEnrollment(second);

        expect(r2.device.id).toBe(r1.device.id);
        expect(r2.superseded).toEqual([{ ...r1.enrollment, status: 'superseded', supersededAt: at(60_000) }]);
        expect(r2.enrollment.status).toBe('active');
        expect(r2.device).toMatchObject({
          deviceName: 'DESKTOP-RENAMED',
          osVersion: '10.0.26100.2',
          upn: second.upn,
          userId: second.userId,
          firstEnrolledAt: at(0),
          lastEnrolledAt: at(60_000),
          currentEnrollmentId: r2.enrollment.id,
          certSerial: second.certSerial,
          certThumbprint: second.certThumbprint,
          status: 'enrolled',
        });

        const list = await s.listEnrollments(first.deviceId);
        expect(list.map((e) => [e.id, e.status])).toEqual([
          [r1.enrollment.id, 'superseded'],
          [r2.enrollment.id, 'active'],
        ]);
        expect(list[0]?.supersededAt).toEqual(at(60_000));
        expect((await s.listDevices()).filter((d) => d.deviceId === first.deviceId.toUpperCase())).toHaveLength(1);
        // Same HWDevID: one history row, last seen moved.
        expect(await s.hwDevIdHistory(first.deviceId)).toEqual([{ hwDevId: first.hwDevId, firstSeenAt: at(0), lastSeenAt: at(60_000) }]);
        expect(await s.certSerialExists(first.certSerial)).toBe(true);
        expect(await s.certSerialExists(second.certSerial)).toBe(true);
      });

      it('appends a new HWDevID to the history and keeps last-known values when a re-enrollment omits them', async () => {
        const first = newEnrollment({ now: at(0) });
        await s.recordEnrollment(first);
        const newHw = hex(32).toUpperCase();
        await s.recordEnrollment(newEnrollment({ deviceId: first.deviceId, hwDevId: newHw, now: at(1000) }));
        const r3 = await s.recordEnrollment(
          newEnrollment({ deviceId: first.deviceId, hwDevId: null, deviceName: null, osVersion: null, osEdition: null, now: at(2000) }),
        );
        expect(r3.device).toMatchObject({ hwDevId: newHw, deviceName: 'DESKTOP-1', osVersion: '10.0.26100.1', osEdition: 48 });
        expect(r3.superseded).toHaveLength(1);
        expect(await s.hwDevIdHistory(first.deviceId)).toEqual([
          { hwDevId: first.hwDevId, firstSeenAt: at(0), lastSeenAt: at(0) },
          { hwDevId: newHw, firstSeenAt: at(1000), lastSeenAt: at(1000) },
        ]);
        const statuses = (await s.listEnrollments(first.deviceId)).map((e) => e.status);
        expect(statuses).toEqual(['superseded', 'superseded', 'active']);
      });

      it('flags two DeviceIDs sharing one HWDevID on both, never merging them, and does not duplicate the flag', async () => {
        const hw = hex(32).toUpperCase();
        const a = newEnrollment({ hwDevId: hw, now: at(0) });
        const b = newEnrollment({ hwDevId: hw.toLowerCase(), now: at(1000) });
        const ra = await s.recordEnrollment(a);
        expect(ra.sharedHwDevIdWith).toEqual([]);
        const rb = await s.recordEnrollment(b);
        expect(rb.sharedHwDevIdWith).toEqual([a.deviceId]);
        expect(rb.device.id).not.toBe(ra.device.id);

        const devA = await s.getDevice(a.deviceId);
        const devB = await s.getDevice(b.deviceId);
        expect(devA?.warnings).toEqual([
          { kind: 'shared_hwdevid', detail: expect.stringContaining(hw), relatedDeviceIds: [b.deviceId], createdAt: at(1000) },
        ]);
        expect(devB?.warnings).toEqual([
          { kind: 'shared_hwdevid', detail: expect.stringContaining(hw), relatedDeviceIds: [a.deviceId], createdAt: at(1000) },
        ]);
        expect(rb.device.warnings).toEqual(devB?.warnings);
        const both = (await s.listDevices()).filter((d) => d.deviceId === a.deviceId || d.deviceId === b.deviceId);
        expect(both).toHaveLength(2);
        expect(both.every((d) => d.warnings.length === 1)).toBe(true);

        // Re-enrolling either device reports the sharing again but adds no second warning.
        const rb2 = await s.recordEnrollment(newEnrollment({ deviceId: b.deviceId, hwDevId: hw, now: at(2000) }));
        expect(rb2.sharedHwDevIdWith).toEqual([a.deviceId]);
        await s.recordEnrollment(newEnrollment({ deviceId: a.deviceId, hwDevId: hw, now: at(3000) }));
        expect((await s.getDevice(a.deviceId))?.warnings).toHaveLength(1);
        expect((await s.getDevice(b.deviceId))?.warnings).toHaveLength(1);

        // A third clone is flagged against both, and both get one more warning each.
        const c = newEnrollment({ hwDevId: hw, now: at(4000) });
        const rc = await s.recordEnrollment(c);
        expect(rc.sharedHwDevIdWith).toEqual([a.deviceId, b.deviceId].sort());
        expect(rc.device.warnings.map((w) => w.relatedDeviceIds[0]).sort()).toEqual([a.deviceId, b.deviceId].sort());
        expect((await s.getDevice(a.deviceId))?.warnings).toHaveLength(2);
        expect((await s.getDevice(b.deviceId))?.warnings).toHaveLength(2);
      });

      it('flags devices that shared a HWDevID in the past, not only the current one', async () => {
        const hw = hex(32).toUpperCase();
        const a = newEnrollment({ hwDevId: hw, now: at(0) });
        await s.recordEnrollment(a);
        await s.recordEnrollment(newEnrollment({ deviceId: a.deviceId, hwDevId: hex(32).toUpperCase(), now: at(10) }));
        const rb = await s.recordEnrollment(newEnrollment({ hwDevId: hw, now: at(20) }));
        expect(rb.sharedHwDevIdWith).toEqual([a.deviceId]);
      });

      it('flags both when two DeviceIDs with one HWDevID enroll at the same moment', async () => {
        const hw = hex(32).toUpperCase();
        const inputs = Array.from({ length: 4 }, () => newEnrollment({ hwDevId: hw }));
        await Promise.all(inputs.map((i) => s.recordEnrollment(i)));
        for (const i of inputs) {
          const others = inputs
            .filter((o) => o !== i)
            .map((o) => o.deviceId)
            .sort();
          const d = await s.getDevice(i.deviceId);
          expect(d?.warnings.map((w) => w.relatedDeviceIds[0]).sort()).toEqual(others);
        }
      });

      it('rolls back completely on a duplicate certificate serial', async () => {
        const hw = hex(32).toUpperCase();
        const a = newEnrollment({ hwDevId: hw, now: at(0) });
        const ra = await s.recordEnrollment(a);
        const before = {
          device: await s.getDevice(a.deviceId),
          enrollments: await s.listEnrollments(a.deviceId),
          history: await s.hwDevIdHistory(a.deviceId),
        };
        expect(before.device).toEqual(ra.device);

        // Re-enrollment of the same device with a reused serial: nothing changes.
        await expectCode(
          s.recordEnrollment(
            newEnrollment({
              deviceId: a.deviceId,
              hwDevId: hex(32).toUpperCase(),
              deviceName: 'CHANGED',
              certSerial: a.certSerial.toUpperCase(),
              now: at(5000),
            }),
          ),
          'conflict',
          ConflictError,
        );
        // A new device, sharing the HWDevID, with a reused serial: no device, no warnings anywhere.
        const x = newEnrollment({ hwDevId: hw, certSerial: a.certSerial, now: at(6000) });
        await expectCode(s.recordEnrollment(x), 'conflict', ConflictError);
        // A reused thumbprint is refused too.
        await expectCode(
          s.recordEnrollment(newEnrollment({ deviceId: a.deviceId, certThumbprint: a.certThumbprint.toLowerCase(), now: at(7000) })),
          'conflict',
          ConflictError,
        );

        expect(await s.getDevice(a.deviceId)).toEqual(before.device);
        expect(await s.listEnrollments(a.deviceId)).toEqual(before.enrollments);
        expect(await s.hwDevIdHistory(a.deviceId)).toEqual(before.history);
        expect(await s.getDevice(x.deviceId)).toBeUndefined();
        expect(await s.listEnrollments(x.deviceId)).toEqual([]);
        expect((await s.listDevices()).some((d) => d.deviceId === x.deviceId)).toBe(false);
      });

      it('converges concurrent enrollments of one DeviceID on one device with one active enrollment', async () => {
        const deviceId = hex(16).toUpperCase();
        const hw = hex(32).toUpperCase();
        const inputs = Array.from({ length: 5 }, (_, i) => newEnrollment({ deviceId, hwDevId: hw, now: at(i) }));
        const results = await Promise.all(inputs.map((i) => s.recordEnrollment(i)));
        expect(new Set(results.map((r) => r.device.id)).size).toBe(1);
        const list = await s.listEnrollments(deviceId);
        expect(list).toHaveLength(5);
        expect(list.filter((e) => e.status === 'active')).toHaveLength(1);
        expect(list.filter((e) => e.status === 'superseded')).toHaveLength(4);
        const device = await s.getDevice(deviceId);
        expect(device?.currentEnrollmentId).toBe(list.find((e) => e.status === 'active')?.id);
        expect(device?.warnings).toEqual([]);
        expect(await s.hwDevIdHistory(deviceId)).toHaveLength(1);
      });

      it('round-trips timestamps with millisecond precision', async () => {
        const input = newEnrollment({
          now: new Date('2030-12-31T23:59:59.999Z'),
          certNotBefore: new Date('1999-01-01T00:00:00.001Z'),
          certNotAfter: new Date('2049-12-31T23:59:59.456Z'),
        });
        await s.recordEnrollment(input);
        const [e] = await s.listEnrollments(input.deviceId);
        expect(e?.createdAt.toISOString()).toBe('2030-12-31T23:59:59.999Z');
        expect(e?.certNotBefore.toISOString()).toBe('1999-01-01T00:00:00.001Z');
        expect(e?.certNotAfter.toISOString()).toBe('2049-12-31T23:59:59.456Z');
        const d = await s.getDevice(input.deviceId);
        expect(d?.certNotAfter?.getTime()).toBe(input.certNotAfter.getTime());
        expect(d?.firstEnrolledAt.getTime()).toBe(input.now.getTime());
        // A Date made from a non-UTC offset is the same instant.
        const name = `tz-${uid()}.com`;
        await s.addDomain({ name, authPolicy: 'OnPremise', now: new Date('2025-06-01T12:00:00.250+02:00') });
        expect((await s.getDomain(name))?.createdAt.toISOString()).toBe('2025-06-01T10:00:00.250Z');
      });

      it('lists devices with their current certificate', async () => {
        const input = newEnrollment();
        const r = await s.recordEnrollment(input);
        const listed = (await s.listDevices()).find((d) => d.deviceId === input.deviceId);
        expect(listed).toEqual(r.device);
      });
    });

    describe('one-time tokens', () => {
      it('spends a token once', async () => {
        const jti = `jti-${uid()}`;
        expect(await s.spendToken(jti, at(600_000), T0)).toBe(true);
        expect(await s.spendToken(jti, at(600_000), at(1000))).toBe(false);
        expect(await s.spendToken(`jti-${uid()}`, at(600_000), T0)).toBe(true);
      });

      it('lets exactly one of many concurrent spends of one token succeed', async () => {
        const jti = `race-${uid()}`;
        const results = await Promise.all(Array.from({ length: 20 }, () => s.spendToken(jti, at(600_000), T0)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('lets exactly one of concurrent spends through two handles succeed', async () => {
        const other = await open();
        const jti = `race2-${uid()}`;
        const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 === 0 ? s : other).spendToken(jti, at(600_000), T0)));
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('prunes expired tokens but never unexpired ones', async () => {
        const expired = `old-${uid()}`;
        const live = `live-${uid()}`;
        const base = at(10 * 86_400_000);
        expect(await s.spendToken(expired, new Date(base.getTime() + 1000), base)).toBe(true);
        expect(await s.spendToken(live, new Date(base.getTime() + 3_600_000), base)).toBe(true);
        const later = new Date(base.getTime() + 60_000);
        // Triggers pruning: the expired row goes, the live one stays spent.
        expect(await s.spendToken(`other-${uid()}`, new Date(later.getTime() + 1000), later)).toBe(true);
        expect(await s.spendToken(live, new Date(base.getTime() + 3_600_000), later)).toBe(false);
        expect(await s.spendToken(expired, new Date(base.getTime() + 1000), later)).toBe(true);
      });
    });

    describe('database lifecycle', () => {
      it('applies migrations idempotently when opened twice, and reports their status', async () => {
        const fresh = await target.createDatabase();
        extra.push(fresh);
        const before = await migrationStatus(fresh.url);
        expect(before.applied).toEqual([]);
        expect(before.pending).toContain('0001_initial');

        const first = await open(fresh.url);
        await first.addDomain({ name: 'kept.example', authPolicy: 'OnPremise', now: T0 });
        await first.close();
        const second = await open(fresh.url);
        expect(await second.getDomain('kept.example')).toBeDefined();
        const after = await migrationStatus(fresh.url);
        expect(after.pending).toEqual([]);
        expect(after.applied).toEqual(before.pending);
        await second.close();
      });

      it('migrates safely when several handles open a fresh database at once', async () => {
        const fresh = await target.createDatabase();
        extra.push(fresh);
        const opened = await Promise.all(Array.from({ length: 4 }, () => open(fresh.url)));
        await opened[0]?.addDomain({ name: 'race.example', authPolicy: 'OnPremise', now: T0 });
        for (const h of opened) expect(await h.getDomain('race.example')).toBeDefined();
        expect((await migrationStatus(fresh.url)).pending).toEqual([]);
      });

      it('does not migrate when asked not to', async () => {
        const fresh = await target.createDatabase();
        extra.push(fresh);
        const h = await openStorage(fresh.url, { migrate: false });
        handles.push(h);
        expect((await migrationStatus(fresh.url)).applied).toEqual([]);
        await h.close();
      });

      it('shows each handle the writes of another on the same database', async () => {
        const a = s;
        const b = await open();
        const name = `shared-${uid()}.com`;
        await a.addDomain({ name, authPolicy: 'OnPremise', now: T0 });
        expect(await b.getDomain(name)).toBeDefined();
        const e = newEnrollment();
        await b.recordEnrollment(e);
        expect((await a.getDevice(e.deviceId))?.certSerial).toBe(e.certSerial);
        await a.recordEnrollment(newEnrollment({ deviceId: e.deviceId, now: at(1) }));
        expect((await b.listEnrollments(e.deviceId)).map((x) => x.status)).toEqual(['superseded', 'active']);
        const upn = `shared-${uid()}@contoso.com`;
        await b.addUser({ upn, displayName: null, passwordHash: 'h', now: T0 });
        await expectCode(a.addUser({ upn, displayName: null, passwordHash: 'h', now: T0 }), 'conflict', ConflictError);
      });

      it('fails with storage_unavailable after close, and close is idempotent', async () => {
        const h = await open();
        await h.close();
        await h.close();
        await expectCode(h.getDomain('x.com'), 'storage_unavailable');
      });
    });
  });
}
