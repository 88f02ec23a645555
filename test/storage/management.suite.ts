/**
 * Conformance suite of the management-channel storage ports (core/management/ports.ts): every backend
 * runs exactly these tests, from sqlite.test.ts and postgres.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { Migrator } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CommandOrigin, NewCommand, ProfileSetting } from '../../src/core/management/ports.js';
import type { NewEnrollment, Storage } from '../../src/core/ports.js';
import { ConflictError, NotFoundError, type WinrollError } from '../../src/shared/errors.js';
import { openPostgres, openSqlite, parseStorageUrl } from '../../src/storage/sql/dialects.js';
import { StaticMigrationProvider } from '../../src/storage/sql/migrations/index.js';
import { openStorage } from '../../src/storage/sql/sql-storage.js';
import { newEnrollment, type StorageTestTarget } from './storage.suite.js';

const T0 = new Date('2025-03-04T05:06:07.891Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const uid = (): string => randomBytes(4).toString('hex');
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function cmd(locUri: string, overrides: Partial<NewCommand> = {}): NewCommand {
  return { verb: 'Get', item: { locUri }, userId: null, origin: { kind: 'inventory' }, ...overrides };
}

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

async function expectCode(p: Promise<unknown>, code: string, cls: abstract new (...a: never[]) => Error): Promise<void> {
  const err = await rejection(p);
  expect(err, `expected a ${code} error`).toBeInstanceOf(cls);
  expect((err as WinrollError).code).toBe(code);
}

export function managementConformanceSuite(target: StorageTestTarget): void {
  describe(`Management storage conformance (${target.kind})`, () => {
    const databases: Array<{ url: string; drop(): Promise<void> }> = [];
    const handles: Storage[] = [];
    let s: Storage;

    async function freshStorage(): Promise<Storage> {
      const db = await target.createDatabase();
      databases.push(db);
      const h = await openStorage(db.url);
      handles.push(h);
      return h;
    }

    beforeAll(async () => {
      s = await freshStorage();
    });

    afterAll(async () => {
      for (const h of handles) await h.close().catch(() => {});
      for (const d of databases) await d.drop();
    });

    /** Enrolls a new device (or re-enrolls `deviceId`); returns its pk with the input used. */
    async function enroll(overrides: Partial<NewEnrollment> = {}, store: Storage = s) {
      const input = newEnrollment(overrides);
      const r = await store.recordEnrollment(input);
      return { pk: r.device.id, input, recorded: r };
    }

    describe('device state', () => {
      it('derives ownership from the enrollment type for new devices and keeps it on re-enrollment', async () => {
        const corp = await enroll({ enrollmentType: 'Device' });
        const personal = await enroll({ enrollmentType: 'Full' });
        expect((await s.getManagedDevice(corp.input.deviceId))?.ownership).toBe('corporate');
        expect((await s.getManagedDevice(personal.input.deviceId))?.ownership).toBe('personal');

        await s.setOwnership(personal.pk, 'corporate');
        await enroll({ deviceId: personal.input.deviceId, enrollmentType: 'Full', now: at(1000) });
        expect((await s.getManagedDevice(personal.input.deviceId))?.ownership).toBe('corporate');
        await enroll({ deviceId: corp.input.deviceId, enrollmentType: 'Full', now: at(1000) });
        expect((await s.getManagedDevice(corp.input.deviceId))?.ownership).toBe('corporate');
        await s.setOwnership(corp.pk, 'personal');
        expect((await s.getManagedDevice(corp.input.deviceId))?.ownership).toBe('personal');
      });

      it('returns the managed device with its current enrollment, or undefined', async () => {
        const first = await enroll({ now: at(0) });
        const second = await enroll({ deviceId: first.input.deviceId.toLowerCase(), now: at(5000) });
        const m = await s.getManagedDevice(first.input.deviceId.toLowerCase());
        expect(m).toEqual({
          device: second.recorded.device,
          enrollment: second.recorded.enrollment,
          ownership: 'personal',
          lastCheckInAt: null,
          inventory: null,
          retiredAt: null,
        });
        expect(m?.enrollment.revokedAt).toBeNull();
        expect(await s.getManagedDevice(randomBytes(16).toString('hex'))).toBeUndefined();
      });

      it('finds a device by any of its certificates, with that enrollment whatever its status', async () => {
        const a = await enroll({ now: at(0) });
        const b = await enroll({ deviceId: a.input.deviceId, now: at(1000) });
        const byOld = await s.findByCertificate(a.input.certThumbprint.toLowerCase());
        expect(byOld).toEqual({
          device: b.recorded.device,
          enrollment: { ...a.recorded.enrollment, status: 'superseded', supersededAt: at(1000) },
          ownership: 'personal',
          retiredAt: null,
          inventory: null,
        });
        const byNew = await s.findByCertificate(b.input.certThumbprint);
        expect(byNew?.enrollment).toEqual(b.recorded.enrollment);
        expect(byNew?.device.certThumbprint).toBe(b.input.certThumbprint);
        expect(await s.findByCertificate(randomBytes(20).toString('hex').toUpperCase())).toBeUndefined();
      });

      it('records check-ins and merges inventory, keeping fields not given', async () => {
        const { pk, input } = await enroll();
        await s.recordCheckIn(pk, at(1000));
        await s.recordCheckIn(pk, at(2000));
        expect((await s.getManagedDevice(input.deviceId))?.lastCheckInAt).toEqual(at(2000));

        await s.updateInventory(pk, { manufacturer: 'Contoso', model: 'Laptop 7', totalStorageMb: 512000, osEdition: '48' }, at(3000));
        expect((await s.getManagedDevice(input.deviceId))?.inventory).toEqual({
          manufacturer: 'Contoso',
          model: 'Laptop 7',
          totalStorageMb: 512000,
          osEdition: '48',
          collectedAt: at(3000).toISOString(),
        });
        await s.updateInventory(pk, { model: 'Laptop 8', freeStorageMb: 1234.5, serialNumber: undefined }, at(4000));
        expect((await s.getManagedDevice(input.deviceId))?.inventory).toEqual({
          manufacturer: 'Contoso',
          model: 'Laptop 8',
          totalStorageMb: 512000,
          freeStorageMb: 1234.5,
          osEdition: '48',
          collectedAt: at(4000).toISOString(),
        });
        // Concurrent merges of different fields both land.
        await Promise.all([s.updateInventory(pk, { language: 'en-US' }, at(5000)), s.updateInventory(pk, { dmVersion: '1.3' }, at(5000))]);
        expect((await s.getManagedDevice(input.deviceId))?.inventory).toMatchObject({
          language: 'en-US',
          dmVersion: '1.3',
          model: 'Laptop 8',
        });
      });

      it('retires (keeping the first time), then unenrolls idempotently, and re-enrollment brings the device back', async () => {
        const { pk, input, recorded } = await enroll({ now: at(0) });
        await s.markRetired(pk, at(1000));
        await s.markRetired(pk, at(2000));
        let m = await s.getManagedDevice(input.deviceId);
        expect(m?.retiredAt).toEqual(at(1000));
        expect(m?.device.status).toBe('enrolled');
        expect((await s.findByCertificate(input.certThumbprint))?.retiredAt).toEqual(at(1000));

        await s.markUnenrolled(pk, at(3000));
        await s.markUnenrolled(pk, at(4000));
        m = await s.getManagedDevice(input.deviceId);
        expect(m?.device.status).toBe('unenrolled');
        expect(m?.enrollment).toEqual({ ...recorded.enrollment, status: 'unenrolled', revokedAt: at(3000) });
        expect(await s.listEnrollments(input.deviceId)).toEqual([{ ...recorded.enrollment, status: 'unenrolled', revokedAt: at(3000) }]);
        expect((await s.findByCertificate(input.certThumbprint))?.enrollment.status).toBe('unenrolled');

        const again = await enroll({ deviceId: input.deviceId, now: at(5000) });
        expect(again.recorded.superseded).toEqual([]); // the unenrolled one was not active
        m = await s.getManagedDevice(input.deviceId);
        expect(m?.device.status).toBe('enrolled');
        expect(m?.retiredAt).toBeNull();
        expect(m?.enrollment).toEqual(again.recorded.enrollment);
        expect((await s.listEnrollments(input.deviceId)).map((e) => [e.status, e.revokedAt])).toEqual([
          ['unenrolled', at(3000)],
          ['active', null],
        ]);
      });

      it('unenrolls a device that was never retired', async () => {
        const { pk, input } = await enroll();
        await s.markUnenrolled(pk, at(10));
        const m = await s.getManagedDevice(input.deviceId);
        expect(m?.retiredAt).toBeNull();
        expect(m?.device.status).toBe('unenrolled');
        expect(m?.enrollment.revokedAt).toEqual(at(10));
      });

      it('deletes a device with everything hanging off it', async () => {
        const { pk, input } = await enroll();
        const other = await enroll();
        const [c] = await s.enqueue(pk, [cmd('./DevDetail/SwV')], T0);
        const [keep] = await s.enqueue(other.pk, [cmd('./DevDetail/SwV')], T0);
        const profile = await s.saveProfile({ name: `del-${uid()}`, scope: 'device', settings: [], now: T0 });
        await s.assignProfile(profile.id, { kind: 'device', devicePk: pk }, T0);
        await s.assignProfile(profile.id, { kind: 'device', devicePk: other.pk }, T0);
        await s.recordApplied({
          devicePk: pk,
          userId: null,
          locUri: './Device/X',
          format: 'int',
          value: '1',
          profileId: profile.id,
          appliedAt: T0,
        });
        await s.setPushChannel(pk, { pfn: 'pfn', channelUri: 'https://wns/x', status: 0 }, T0);

        await s.deleteDevice(pk);
        expect(await s.getDevice(input.deviceId)).toBeUndefined();
        expect(await s.getManagedDevice(input.deviceId)).toBeUndefined();
        expect(await s.findByCertificate(input.certThumbprint)).toBeUndefined();
        expect(await s.listEnrollments(input.deviceId)).toEqual([]);
        expect(await s.hwDevIdHistory(input.deviceId)).toEqual([]);
        expect(await s.getCommand(c?.id ?? '')).toBeUndefined();
        expect(await s.listCommands(pk)).toEqual([]);
        expect(await s.listApplied(pk)).toEqual([]);
        expect(await s.getPushChannel(pk)).toBeUndefined();
        expect(await s.listAssignments(profile.id)).toEqual([{ kind: 'device', devicePk: other.pk }]);
        expect(await s.getProfile(profile.id)).toEqual(profile);
        expect((await s.getCommand(keep?.id ?? ''))?.devicePk).toBe(other.pk);
        await s.deleteDevice(pk); // deleting again is harmless
      });

      it('records the push channel field by field', async () => {
        const { pk } = await enroll();
        expect(await s.getPushChannel(pk)).toBeUndefined();
        await s.setPushChannel(pk, { pfn: 'Contoso.App_8wekyb3d8bbwe' }, at(1));
        expect(await s.getPushChannel(pk)).toEqual({ pfn: 'Contoso.App_8wekyb3d8bbwe', channelUri: null, status: null, updatedAt: at(1) });
        await s.setPushChannel(pk, { channelUri: 'https://db5.notify.windows.com/?token=x', status: 0 }, at(2));
        expect(await s.getPushChannel(pk)).toEqual({
          pfn: 'Contoso.App_8wekyb3d8bbwe',
          channelUri: 'https://db5.notify.windows.com/?token=x',
          status: 0,
          updatedAt: at(2),
        });
        await s.setPushChannel(pk, { channelUri: null, status: 3 }, at(3));
        expect(await s.getPushChannel(pk)).toEqual({ pfn: 'Contoso.App_8wekyb3d8bbwe', channelUri: null, status: 3, updatedAt: at(3) });
        expect(await s.getPushChannel(`missing-${uid()}`)).toBeUndefined();
      });
    });

    describe('command queue', () => {
      it('enqueues in the given order with increasing seq and round-trips every field', async () => {
        const { pk } = await enroll();
        const commands: NewCommand[] = [
          {
            verb: 'Replace',
            item: { locUri: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', data: '0' },
            userId: null,
            origin: { kind: 'profile', profileId: 'p1', setting: 'Camera/AllowCamera' },
          },
          {
            verb: 'Exec',
            item: { locUri: './Device/Vendor/MSFT/Reboot/RebootNow', format: 'null', type: 'text/plain' },
            userId: null,
            origin: { kind: 'action', actionId: 'a1' },
          },
          {
            verb: 'Add',
            item: { locUri: './User/Vendor/MSFT/Policy/Config/Start/HideSleep', format: 'int', data: '1' },
            userId: 'user-1',
            origin: { kind: 'system', purpose: 'test' },
          },
          cmd('./DevDetail/Ext/Microsoft/TotalStorage'),
        ];
        const queued = await s.enqueue(pk, commands, at(7));
        expect(queued).toHaveLength(4);
        expect(queued.map((q) => q.item.locUri)).toEqual(commands.map((c) => c.item.locUri));
        for (let i = 1; i < queued.length; i++) expect(queued[i]?.seq).toBeGreaterThan(queued[i - 1]?.seq ?? Infinity);
        for (const [i, q] of queued.entries()) {
          expect(q).toEqual({
            ...commands[i],
            id: expect.stringMatching(UUID),
            seq: expect.any(Number),
            devicePk: pk,
            state: 'pending',
            sentSession: null,
            sentMsgId: null,
            attempts: 0,
            status: null,
            results: null,
            createdAt: at(7),
            updatedAt: at(7),
          });
          expect(await s.getCommand(q.id)).toEqual(q);
        }
        expect(new Set(queued.map((q) => q.id)).size).toBe(4);
        expect(await s.listCommands(pk)).toEqual([...queued].reverse());
        expect(await s.listCommands(pk, { limit: 2 })).toEqual([queued[3], queued[2]]);
        expect(await s.enqueue(pk, [], T0)).toEqual([]);
        expect(await s.getCommand(`missing-${uid()}`)).toBeUndefined();
      });

      it('keeps the given order across the statements of a large enqueue', async () => {
        const { pk } = await enroll();
        const queued = await s.enqueue(
          pk,
          Array.from({ length: 1201 }, (_, i) => cmd(`./Big/${i}`)),
          T0,
        );
        expect(queued.map((q) => q.item.locUri)).toEqual(Array.from({ length: 1201 }, (_, i) => `./Big/${i}`));
        for (let i = 1; i < queued.length; i++) expect(queued[i]?.seq).toBeGreaterThan(queued[i - 1]?.seq ?? Infinity);
        const next = await s.nextCommands(pk, { sessionKey: 'k', userId: null, limit: 1201 });
        expect(next.map((q) => q.id)).toEqual(queued.map((q) => q.id));
      });

      it('refuses to enqueue for an unknown device and writes nothing', async () => {
        const pk = `missing-${uid()}`;
        await expectCode(s.enqueue(pk, [cmd('./DevInfo/Mod')], T0), 'not_found', NotFoundError);
        expect(await s.listCommands(pk)).toEqual([]);
      });

      it('keeps seq increasing across devices, fan-outs and handles', async () => {
        const a = await enroll();
        const b = await enroll();
        const group = await s.addGroup({ name: `seq-${uid()}`, now: T0 });
        await s.addGroupMember(group.id, a.input.userId);
        await s.addGroupMember(group.id, b.input.userId);
        const [c1] = await s.enqueue(a.pk, [cmd('./A/1')], T0);
        expect(await s.enqueueForDevices({ groupId: group.id }, cmd('./Fan/1'), T0)).toBe(2);
        const other = await openStorage(databases[0]?.url ?? '');
        handles.push(other);
        const [c2] = await other.enqueue(b.pk, [cmd('./B/1')], T0);
        const [c3] = await s.enqueue(a.pk, [cmd('./A/2')], T0);
        const fanA = (await s.listCommands(a.pk)).find((c) => c.item.locUri === './Fan/1');
        const fanB = (await s.listCommands(b.pk)).find((c) => c.item.locUri === './Fan/1');
        const seqs = [
          c1?.seq,
          Math.min(fanA?.seq ?? 0, fanB?.seq ?? 0),
          Math.max(fanA?.seq ?? 0, fanB?.seq ?? 0),
          c2?.seq,
          c3?.seq,
        ] as number[];
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
        expect(new Set(seqs).size).toBe(5);
        // The queue of device A is in seq order: own command, fan-out, own command.
        const next = await s.nextCommands(a.pk, { sessionKey: 's', userId: null, limit: 10 });
        expect(next.map((c) => c.item.locUri)).toEqual(['./A/1', './Fan/1', './A/2']);
      });

      it('gives concurrent enqueues and fan-outs distinct seqs', async () => {
        const devices = await Promise.all(Array.from({ length: 4 }, () => enroll()));
        const other = await openStorage(databases[0]?.url ?? '');
        handles.push(other);
        const pks = devices.map((d) => d.pk);
        await Promise.all(
          Array.from({ length: 12 }, (_, i) => {
            const h = i % 2 === 0 ? s : other;
            const pk = pks[i % pks.length] ?? '';
            return i % 3 === 0
              ? h.enqueueForDevices({ devicePks: pks }, cmd(`./Fan/${i}`), T0)
              : h.enqueue(pk, [cmd(`./One/${i}/a`), cmd(`./One/${i}/b`)], T0);
          }),
        );
        const all = (await Promise.all(pks.map((pk) => s.listCommands(pk)))).flat();
        expect(all).toHaveLength(4 * 4 + 8 * 2);
        expect(new Set(all.map((c) => c.seq)).size).toBe(all.length);
        expect(new Set(all.map((c) => c.id)).size).toBe(all.length);
        // Within one enqueue call the given order is the queue order.
        for (const c of all.filter((x) => x.item.locUri.endsWith('/a'))) {
          const b = all.find((x) => x.item.locUri === c.item.locUri.replace(/a$/, 'b'));
          expect(b?.seq).toBeGreaterThan(c.seq);
        }
      });

      it('returns device-scope commands without a user, and the user’s too with one, in seq order and up to the limit', async () => {
        const { pk } = await enroll();
        await s.enqueue(
          pk,
          [cmd('./D/1'), cmd('./U1/1', { userId: 'u1' }), cmd('./U2/1', { userId: 'u2' }), cmd('./D/2'), cmd('./U1/2', { userId: 'u1' })],
          T0,
        );
        const uris = async (userId: string | null, limit = 10) =>
          (await s.nextCommands(pk, { sessionKey: 'k', userId, limit })).map((c) => c.item.locUri);
        expect(await uris(null)).toEqual(['./D/1', './D/2']);
        expect(await uris('u1')).toEqual(['./D/1', './U1/1', './D/2', './U1/2']);
        expect(await uris('u2')).toEqual(['./D/1', './U2/1', './D/2']);
        expect(await uris('u1', 3)).toEqual(['./D/1', './U1/1', './D/2']);
        expect(await uris('u1', 0)).toEqual([]);
        expect(await s.nextCommands(`missing-${uid()}`, { sessionKey: 'k', userId: null, limit: 5 })).toEqual([]);
      });

      it('does not send a command twice in one session but resends it in the next', async () => {
        const { pk } = await enroll();
        const [c1, c2, c3] = await s.enqueue(pk, [cmd('./1'), cmd('./2'), cmd('./3')], T0);
        const first = await s.nextCommands(pk, { sessionKey: 'S1', userId: null, limit: 2 });
        expect(first.map((c) => c.id)).toEqual([c1?.id, c2?.id]);
        await s.markSent(
          first.map((c) => c.id),
          'S1',
          1,
          at(1),
        );
        const sent = await s.getCommand(c1?.id ?? '');
        expect(sent).toMatchObject({ state: 'sent', sentSession: 'S1', sentMsgId: 1, attempts: 1, updatedAt: at(1) });
        // Same session: only what was not sent yet.
        expect((await s.nextCommands(pk, { sessionKey: 'S1', userId: null, limit: 10 })).map((c) => c.id)).toEqual([c3?.id]);
        // S1 was lost: the next session gets everything unacknowledged, in queue order.
        const resend = await s.nextCommands(pk, { sessionKey: 'S2', userId: null, limit: 10 });
        expect(resend.map((c) => c.id)).toEqual([c1?.id, c2?.id, c3?.id]);
        await s.markSent([c1?.id ?? '', c3?.id ?? ''], 'S2', 7, at(2));
        expect(await s.getCommand(c1?.id ?? '')).toMatchObject({ state: 'sent', sentSession: 'S2', sentMsgId: 7, attempts: 2 });
        expect(await s.getCommand(c3?.id ?? '')).toMatchObject({ state: 'sent', sentSession: 'S2', sentMsgId: 7, attempts: 1 });
        expect((await s.nextCommands(pk, { sessionKey: 'S2', userId: null, limit: 10 })).map((c) => c.id)).toEqual([c2?.id]);
        await s.markSent([], 'S2', 8, at(3)); // nothing to do
      });

      it('acknowledges only sent commands, once; non-2xx fails them', async () => {
        const { pk } = await enroll();
        const [ok, bad, pending] = await s.enqueue(pk, [cmd('./ok'), cmd('./bad'), cmd('./pending')], T0);
        await s.markSent([ok?.id ?? '', bad?.id ?? ''], 'S', 1, at(1));
        expect(await s.recordStatus(pk, pending?.id ?? '', 200, at(2))).toBeUndefined();
        expect((await s.getCommand(pending?.id ?? ''))?.state).toBe('pending');
        // Another device cannot acknowledge it.
        const other = await enroll();
        expect(await s.recordStatus(other.pk, ok?.id ?? '', 200, at(2))).toBeUndefined();

        const acked = await s.recordStatus(pk, ok?.id ?? '', 200, at(3));
        expect(acked).toMatchObject({ id: ok?.id, state: 'acknowledged', status: 200, attempts: 1, updatedAt: at(3) });
        expect(await s.getCommand(ok?.id ?? '')).toEqual(acked);
        expect(await s.recordStatus(pk, ok?.id ?? '', 500, at(4))).toBeUndefined();
        expect(await s.getCommand(ok?.id ?? '')).toEqual(acked);

        expect(await s.recordStatus(pk, bad?.id ?? '', 405, at(5))).toMatchObject({ state: 'failed', status: 405 });
        expect(await s.recordStatus(pk, `missing-${uid()}`, 200, at(5))).toBeUndefined();
        // Acknowledged and failed commands are not sent again.
        expect((await s.nextCommands(pk, { sessionKey: 'S9', userId: null, limit: 10 })).map((c) => c.id)).toEqual([pending?.id]);
      });

      it('lets exactly one of concurrent acknowledgements win', async () => {
        const { pk } = await enroll();
        const [c] = await s.enqueue(pk, [cmd('./race')], T0);
        await s.markSent([c?.id ?? ''], 'S', 1, at(1));
        const other = await openStorage(databases[0]?.url ?? '');
        handles.push(other);
        const results = await Promise.all(
          Array.from({ length: 8 }, (_, i) => (i % 2 === 0 ? s : other).recordStatus(pk, c?.id ?? '', i % 3 === 0 ? 200 : 500, at(2 + i))),
        );
        const winners = results.filter((r) => r !== undefined);
        expect(winners).toHaveLength(1);
        expect(await s.getCommand(c?.id ?? '')).toEqual(winners[0]);
      });

      it('stores Get results', async () => {
        const { pk } = await enroll();
        const [c] = await s.enqueue(pk, [cmd('./DevDetail/SwV')], T0);
        await s.markSent([c?.id ?? ''], 'S', 1, at(1));
        await s.recordStatus(pk, c?.id ?? '', 200, at(2));
        const results = [
          { locUri: './DevDetail/SwV', format: 'chr', data: '10.0.26100.1' },
          { locUri: './DevDetail/OEM', data: 'Contoso' },
        ];
        await s.recordResults(pk, c?.id ?? '', results, at(3));
        expect(await s.getCommand(c?.id ?? '')).toMatchObject({ state: 'acknowledged', results, updatedAt: at(3) });
        await s.recordResults(`missing-${uid()}`, c?.id ?? '', [], at(4)); // another device's command: no change
        expect((await s.getCommand(c?.id ?? ''))?.results).toEqual(results);
      });

      it('cancels pending commands by id, leaving sent ones and other devices alone', async () => {
        const { pk } = await enroll();
        const [a, b, c] = await s.enqueue(pk, [cmd('./Device/A'), cmd('./Device/B'), cmd('./Device/C')], T0);
        await s.markSent([b?.id ?? ''], 'S', 1, at(1));
        const { pk: otherPk } = await enroll();
        expect(await s.cancelCommands(otherPk, [a?.id ?? ''], at(2))).toBe(0);
        expect(await s.cancelCommands(pk, [a?.id ?? '', b?.id ?? ''], at(2))).toBe(1);
        expect((await s.getCommand(a?.id ?? ''))?.state).toBe('canceled');
        expect((await s.getCommand(b?.id ?? ''))?.state).toBe('sent');
        expect((await s.getCommand(c?.id ?? ''))?.state).toBe('pending');
        expect(await s.cancelCommands(pk, [], at(3))).toBe(0);
      });

      it('cancels pending commands by origin or by target, never sent ones, and never resurrects them', async () => {
        const { pk } = await enroll();
        const origin: CommandOrigin = { kind: 'profile', profileId: 'p-1', setting: 'Camera/AllowCamera' };
        const [p1, p2, other, sent, byUri, byUriUser] = await s.enqueue(
          pk,
          [
            cmd('./Device/A', { verb: 'Replace', origin }),
            cmd('./Device/A2', { verb: 'Replace', origin }),
            cmd('./Device/B', { verb: 'Replace', origin: { kind: 'profile', profileId: 'p-1', setting: 'Camera/Other' } }),
            cmd('./Device/C', { verb: 'Replace', origin }),
            cmd('./Device/Target'),
            cmd('./Device/Target', { userId: 'u1' }),
          ],
          T0,
        );
        await s.markSent([sent?.id ?? ''], 'S', 1, at(1));
        // Key order of the origin does not matter.
        expect(await s.cancelPending(pk, { origin: { setting: 'Camera/AllowCamera', profileId: 'p-1', kind: 'profile' } }, at(2))).toBe(2);
        expect(await s.getCommand(p1?.id ?? '')).toMatchObject({ state: 'canceled', updatedAt: at(2) });
        expect((await s.getCommand(p2?.id ?? ''))?.state).toBe('canceled');
        expect((await s.getCommand(other?.id ?? ''))?.state).toBe('pending');
        expect((await s.getCommand(sent?.id ?? ''))?.state).toBe('sent');
        expect(await s.cancelPending(pk, { origin }, at(3))).toBe(0);

        expect(await s.cancelPending(pk, { locUri: './Device/Target', userId: null }, at(4))).toBe(1);
        expect((await s.getCommand(byUri?.id ?? ''))?.state).toBe('canceled');
        expect((await s.getCommand(byUriUser?.id ?? ''))?.state).toBe('pending');
        expect(await s.cancelPending(pk, { locUri: './Device/Target', userId: 'u1' }, at(5))).toBe(1);
        expect((await s.getCommand(byUriUser?.id ?? ''))?.state).toBe('canceled');

        // A canceled command is not sent, even if a session had already picked it.
        await s.markSent([p1?.id ?? ''], 'S2', 2, at(6));
        expect((await s.getCommand(p1?.id ?? ''))?.state).toBe('canceled');
        expect((await s.nextCommands(pk, { sessionKey: 'S3', userId: 'u1', limit: 10 })).map((c) => c.id)).toEqual([other?.id, sent?.id]);
        expect(await s.cancelPending(`missing-${uid()}`, { origin }, at(7))).toBe(0);
      });

      it('prunes terminal commands last updated before the cutoff, and nothing else', async () => {
        const old = (ms: number) => new Date(Date.UTC(2001, 0, 1) + ms);
        const { pk } = await enroll();
        const [ack, fail, cancel, pending, sent, recent, app] = await s.enqueue(
          pk,
          [
            cmd('./ack'),
            cmd('./fail'),
            cmd('./cancel', { origin: { kind: 'action', actionId: 'x' } }),
            cmd('./pending'),
            cmd('./sent'),
            cmd('./recent'),
            cmd('./app', { origin: { kind: 'action', actionId: 'install-app1~required' } }),
          ],
          old(0),
        );
        await s.markSent(
          [ack, fail, sent, recent, app].map((c) => c?.id ?? ''),
          'S',
          1,
          old(1),
        );
        await s.recordStatus(pk, ack?.id ?? '', 200, old(2));
        await s.recordStatus(pk, fail?.id ?? '', 500, old(2));
        await s.cancelPending(pk, { origin: { kind: 'action', actionId: 'x' } }, old(2));
        await s.recordStatus(pk, recent?.id ?? '', 200, old(10_000));
        await s.recordStatus(pk, app?.id ?? '', 200, old(2));
        // An app install is the record of why the app is there (uninstall on unassign needs it): never pruned.
        expect(await s.pruneTerminal(old(5000))).toBe(3);
        expect((await s.listCommands(pk)).map((c) => c.id).sort()).toEqual([pending?.id, sent?.id, recent?.id, app?.id].sort());
        expect(await s.getCommand(cancel?.id ?? '')).toBeUndefined();
        expect(await s.pruneTerminal(old(5000))).toBe(0);
      });

      it('fans out one row per selected enrolled device, skipping retired and unenrolled ones', async () => {
        const f = await freshStorage();
        const users = { u1: `u1-${uid()}`, u2: `u2-${uid()}`, u3: `u3-${uid()}` };
        const d1 = await enroll({ userId: users.u1 }, f);
        const d2 = await enroll({ userId: users.u1 }, f);
        const d3 = await enroll({ userId: users.u2 }, f);
        const retired = await enroll({ userId: users.u1 }, f);
        const unenrolled = await enroll({ userId: users.u2 }, f);
        const reenrolled = await enroll({ userId: users.u3 }, f);
        await f.markRetired(retired.pk, T0);
        await f.markUnenrolled(unenrolled.pk, T0);
        await f.markRetired(reenrolled.pk, T0);
        await f.markUnenrolled(reenrolled.pk, T0);
        await enroll({ deviceId: reenrolled.input.deviceId, userId: users.u3, now: at(1) }, f);
        const enrolledPks = [d1.pk, d2.pk, d3.pk, reenrolled.pk];
        const countPer = async () =>
          Object.fromEntries(
            await Promise.all([...enrolledPks, retired.pk, unenrolled.pk].map(async (pk) => [pk, (await f.listCommands(pk)).length])),
          );

        const [before] = await f.enqueue(d1.pk, [cmd('./before')], T0);
        const command: NewCommand = {
          verb: 'Exec',
          item: { locUri: './Device/Vendor/MSFT/Reboot/RebootNow', format: 'null' },
          userId: null,
          origin: { kind: 'action', actionId: 'reboot-1' },
        };
        expect(await f.enqueueForDevices({ allEnrolled: true }, command, at(5))).toBe(4);
        expect(await countPer()).toEqual({ [d1.pk]: 2, [d2.pk]: 1, [d3.pk]: 1, [reenrolled.pk]: 1, [retired.pk]: 0, [unenrolled.pk]: 0 });
        const fanned = (await Promise.all(enrolledPks.map((pk) => f.listCommands(pk)))).map((list) =>
          list.find((c) => c.item.locUri === command.item.locUri),
        );
        for (const [i, c] of fanned.entries()) {
          expect(c).toEqual({
            ...command,
            id: expect.stringMatching(UUID),
            seq: expect.any(Number),
            devicePk: enrolledPks[i],
            state: 'pending',
            sentSession: null,
            sentMsgId: null,
            attempts: 0,
            status: null,
            results: null,
            createdAt: at(5),
            updatedAt: at(5),
          });
          expect(c?.seq).toBeGreaterThan(before?.seq ?? Infinity);
        }
        expect(new Set(fanned.map((c) => c?.id)).size).toBe(4);
        expect(new Set(fanned.map((c) => c?.seq)).size).toBe(4);
        const [after] = await f.enqueue(d1.pk, [cmd('./after')], T0);
        expect(after?.seq).toBeGreaterThan(Math.max(...fanned.map((c) => c?.seq ?? Infinity)));
        expect((await f.nextCommands(d1.pk, { sessionKey: 's', userId: null, limit: 10 })).map((c) => c.item.locUri)).toEqual([
          './before',
          command.item.locUri,
          './after',
        ]);

        // Explicit pks: duplicates, unknown, retired and unenrolled devices are skipped.
        expect(
          await f.enqueueForDevices({ devicePks: [d2.pk, d2.pk, retired.pk, unenrolled.pk, `missing-${uid()}`, d3.pk] }, cmd('./pks'), T0),
        ).toBe(2);
        expect(await f.enqueueForDevices({ devicePks: [] }, cmd('./none'), T0)).toBe(0);

        // A group: devices enrolled by its members.
        const group = await f.addGroup({ name: 'fan', now: T0 });
        expect(await f.enqueueForDevices({ groupId: group.id }, cmd('./group0'), T0)).toBe(0);
        await f.addGroupMember(group.id, users.u1);
        await f.addGroupMember(group.id, users.u3);
        await f.addGroupMember(group.id, `nobody-${uid()}`);
        const userCommand = cmd('./group', { userId: users.u1 });
        expect(await f.enqueueForDevices({ groupId: group.id }, userCommand, T0)).toBe(3);
        for (const pk of [d1.pk, d2.pk, reenrolled.pk]) {
          const mine = (await f.listCommands(pk)).filter((c) => c.item.locUri === './group');
          expect(mine).toHaveLength(1);
          expect(mine[0]?.userId).toBe(users.u1);
        }
        expect(await f.enqueueForDevices({ groupId: `missing-${uid()}` }, cmd('./x'), T0)).toBe(0);
        expect(await countPer()).toEqual({ [d1.pk]: 4, [d2.pk]: 3, [d3.pk]: 2, [reenrolled.pk]: 2, [retired.pk]: 0, [unenrolled.pk]: 0 });
      });
    });

    describe('groups', () => {
      it('adds, finds, lists, and rejects a duplicate name', async () => {
        const name = `Staff-${uid()}`;
        const g = await s.addGroup({ name, now: T0 });
        expect(g).toEqual({ id: expect.any(String), name, createdAt: T0 });
        expect(await s.getGroupByName(name)).toEqual(g);
        expect(await s.getGroupByName(`missing-${uid()}`)).toBeUndefined();
        await expectCode(s.addGroup({ name, now: at(1) }), 'conflict', ConflictError);
        const names = (await s.listGroups()).map((x) => x.name);
        expect(names).toContain(name);
        expect(names).toEqual([...names].sort());
      });

      it('adds members idempotently and removes them', async () => {
        const g = await s.addGroup({ name: `members-${uid()}`, now: T0 });
        await s.addGroupMember(g.id, 'user-b');
        await s.addGroupMember(g.id, 'user-a');
        await s.addGroupMember(g.id, 'user-b');
        expect(await s.listGroupMembers(g.id)).toEqual(['user-a', 'user-b']);
        await s.removeGroupMember(g.id, 'user-b');
        await s.removeGroupMember(g.id, 'user-b');
        expect(await s.listGroupMembers(g.id)).toEqual(['user-a']);
        await expectCode(s.addGroupMember(`missing-${uid()}`, 'user-a'), 'not_found', NotFoundError);
      });
    });

    describe('profiles', () => {
      const camera: ProfileSetting = { path: 'Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value: '0' };
      const sleep: ProfileSetting = { path: 'Vendor/MSFT/Policy/Config/Start/HideSleep', format: 'int', value: '1' };
      /** A directory user's id (a primary user must exist). */
      const person = async (tag: string, store: Storage = s) =>
        (await store.addUser({ upn: `${tag}-${uid()}@contoso.com`, displayName: null, passwordHash: 'h', now: T0 })).id;
      /** Enrolled by `userId`, who is its primary user (as a join or work-account enrollment makes it). */
      const enrollOwned = async (userId: string, store: Storage = s) => {
        const d = await enroll({ userId }, store);
        await store.setPrimaryUser(d.pk, userId);
        return d;
      };

      it('creates, and bumps the version only when scope or settings change', async () => {
        const name = `baseline-${uid()}`;
        const p1 = await s.saveProfile({ name, scope: 'device', settings: [camera], now: at(0) });
        expect(p1).toEqual({
          id: expect.any(String),
          name,
          scope: 'device',
          settings: [camera],
          type: 'custom',
          definition: null,
          version: 1,
          createdAt: at(0),
          updatedAt: at(0),
        });
        // Same content (keys in another order): unchanged.
        const same = await s.saveProfile({
          name,
          scope: 'device',
          settings: [{ value: '0', format: 'int', path: camera.path }],
          now: at(1),
        });
        expect(same).toEqual(p1);
        const p2 = await s.saveProfile({ name, scope: 'device', settings: [camera, sleep], now: at(2) });
        expect(p2).toEqual({ ...p1, settings: [camera, sleep], version: 2, updatedAt: at(2) });
        const p3 = await s.saveProfile({ name, scope: 'user', settings: [camera, sleep], now: at(3) });
        expect(p3).toEqual({ ...p2, scope: 'user', version: 3, updatedAt: at(3) });
        const p4 = await s.saveProfile({ name, scope: 'user', settings: [camera, { ...sleep, value: '0' }], now: at(4) });
        expect(p4.version).toBe(4);
        expect(await s.getProfile(p1.id)).toEqual(p4);
        expect(await s.getProfileByName(name)).toEqual(p4);
        expect(await s.getProfile(`missing-${uid()}`)).toBeUndefined();
        expect(await s.getProfileByName(`missing-${uid()}`)).toBeUndefined();
        const names = (await s.listProfiles()).map((p) => p.name);
        expect(names).toContain(name);
        expect(names).toEqual([...names].sort());
      });

      it('converges concurrent saves of one new profile on one row', async () => {
        const name = `race-${uid()}`;
        const saved = await Promise.all(
          Array.from({ length: 5 }, () => s.saveProfile({ name, scope: 'device', settings: [camera], now: T0 })),
        );
        expect(new Set(saved.map((p) => p.id)).size).toBe(1);
        expect(saved.every((p) => p.version === 1)).toBe(true);
      });

      it('assigns idempotently, lists, unassigns, and deletes with its assignments', async () => {
        const p = await s.saveProfile({ name: `assign-${uid()}`, scope: 'device', settings: [camera], now: T0 });
        const g = await s.addGroup({ name: `assign-${uid()}`, now: T0 });
        const { pk } = await enroll();
        await s.assignProfile(p.id, { kind: 'group', groupId: g.id }, at(1));
        await s.assignProfile(p.id, { kind: 'device', devicePk: pk }, at(2));
        await s.assignProfile(p.id, { kind: 'group', groupId: g.id }, at(3));
        expect(await s.listAssignments(p.id)).toEqual([
          { kind: 'group', groupId: g.id },
          { kind: 'device', devicePk: pk },
        ]);
        await s.unassignProfile(p.id, { kind: 'group', groupId: g.id });
        await s.unassignProfile(p.id, { kind: 'group', groupId: g.id });
        expect(await s.listAssignments(p.id)).toEqual([{ kind: 'device', devicePk: pk }]);

        await expectCode(s.assignProfile(`missing-${uid()}`, { kind: 'device', devicePk: pk }, T0), 'not_found', NotFoundError);
        await expectCode(s.assignProfile(p.id, { kind: 'group', groupId: `missing-${uid()}` }, T0), 'not_found', NotFoundError);
        await expectCode(s.assignProfile(p.id, { kind: 'device', devicePk: `missing-${uid()}` }, T0), 'not_found', NotFoundError);

        await s.deleteProfile(p.id);
        expect(await s.getProfile(p.id)).toBeUndefined();
        expect(await s.listAssignments(p.id)).toEqual([]);
        expect(await s.profilesForDevice(pk, [])).toEqual([]);
        await s.deleteProfile(p.id);
      });

      it('finds the profiles of a device: directly, through groups of its primary user, and per signed-in user', async () => {
        const U = await person('U');
        const V = `V-${uid()}`;
        const W = `W-${uid()}`;
        const { pk } = await enrollOwned(U);
        const bystander = await enroll({ userId: V });
        const gU = await s.addGroup({ name: `gU-${uid()}`, now: T0 });
        const gV = await s.addGroup({ name: `gV-${uid()}`, now: T0 });
        const gW = await s.addGroup({ name: `gW-${uid()}`, now: T0 });
        await s.addGroupMember(gU.id, U);
        await s.addGroupMember(gV.id, V);
        await s.addGroupMember(gW.id, W);
        const tag = uid();
        const save = (n: string, scope: 'device' | 'user') => s.saveProfile({ name: `${tag}-${n}`, scope, settings: [camera], now: T0 });
        const dDirect = await save('d-direct', 'device'); // device scope, on the device and via gU: listed once
        const dGroupU = await save('d-group-u', 'device'); // device scope via the enrolling user's group
        const dGroupV = await save('d-group-v', 'device'); // device scope via another user's group: never
        const uGroupV = await save('u-group-v', 'user'); // user scope via gV: for V when V is signed in
        const uDirect = await save('u-direct', 'user'); // user scope on the device: for every signed-in user
        const uEverywhere = await save('u-everywhere', 'user'); // via gU, gV and the device: once per user
        const elsewhere = await save('elsewhere', 'device'); // assigned to another device only
        await s.assignProfile(dDirect.id, { kind: 'device', devicePk: pk }, T0);
        await s.assignProfile(dDirect.id, { kind: 'group', groupId: gU.id }, T0);
        await s.assignProfile(dGroupU.id, { kind: 'group', groupId: gU.id }, T0);
        await s.assignProfile(dGroupV.id, { kind: 'group', groupId: gV.id }, T0);
        await s.assignProfile(uGroupV.id, { kind: 'group', groupId: gV.id }, T0);
        await s.assignProfile(uDirect.id, { kind: 'device', devicePk: pk }, T0);
        for (const target of [
          { kind: 'group', groupId: gU.id },
          { kind: 'group', groupId: gV.id },
          { kind: 'device', devicePk: pk },
        ] as const) {
          await s.assignProfile(uEverywhere.id, target, T0);
        }
        await s.assignProfile(elsewhere.id, { kind: 'device', devicePk: bystander.pk }, T0);

        const found = async (userIds: string[]) =>
          (await s.profilesForDevice(pk, userIds)).map((x) => [x.profile.name.slice(tag.length + 1), x.forUserId]);

        expect(await found([])).toEqual([
          ['d-direct', null],
          ['d-group-u', null],
        ]);
        expect(await found([U, V, W, V])).toEqual(
          [
            ['d-direct', null],
            ['d-group-u', null],
            ['u-direct', U],
            ['u-direct', V],
            ['u-direct', W],
            ['u-everywhere', U],
            ['u-everywhere', V],
            ['u-everywhere', W],
            ['u-group-v', V],
          ].sort((a, b) => String(a[0]).localeCompare(String(b[0])) || String(a[1]).localeCompare(String(b[1]))),
        );
        expect(await found([W])).toEqual([
          ['d-direct', null],
          ['d-group-u', null],
          ['u-direct', W],
          ['u-everywhere', W],
        ]);
        const withProfile = await s.profilesForDevice(pk, []);
        expect(withProfile[0]?.profile).toEqual(dDirect);
        expect(await s.profilesForDevice(`missing-${uid()}`, [U])).toEqual([]);
      });

      it('device-scope group profiles follow the primary user; a shared device is reached through its enrolling account', async () => {
        const enroller = await person('enroller');
        const owner = await person('owner');
        const { pk } = await enroll({ userId: enroller });
        const gE = await s.addGroup({ name: `gE-${uid()}`, now: T0 });
        const gO = await s.addGroup({ name: `gO-${uid()}`, now: T0 });
        await s.addGroupMember(gE.id, enroller);
        await s.addGroupMember(gO.id, owner);
        const pE = await s.saveProfile({ name: `pu-e-${uid()}`, scope: 'device', settings: [camera], now: T0 });
        const pO = await s.saveProfile({ name: `pu-o-${uid()}`, scope: 'device', settings: [camera], now: T0 });
        const pD = await s.saveProfile({ name: `pu-d-${uid()}`, scope: 'device', settings: [camera], now: T0 });
        await s.assignProfile(pE.id, { kind: 'group', groupId: gE.id }, T0);
        await s.assignProfile(pO.id, { kind: 'group', groupId: gO.id }, T0);
        await s.assignProfile(pD.id, { kind: 'device', devicePk: pk }, T0);
        const ids = async () => (await s.profilesForDevice(pk, [])).map((x) => x.profile.id);
        // Shared (no primary user): the device's own assignment and the enrolling account's groups.
        expect((await ids()).sort()).toEqual([pD.id, pE.id].sort());
        await s.setPrimaryUser(pk, enroller);
        expect((await ids()).sort()).toEqual([pD.id, pE.id].sort());
        await s.setPrimaryUser(pk, owner);
        expect((await ids()).sort()).toEqual([pD.id, pO.id].sort());
        expect(await s.devicesForProfile(pO.id)).toEqual([pk]);
      });

      it('lists the enrolled devices a profile reaches', async () => {
        const U = `U-${uid()}`;
        const a = await enroll({ userId: U });
        const b = await enroll({ userId: U });
        const c = await enroll();
        const retired = await enroll({ userId: U });
        await s.markRetired(retired.pk, T0);
        const g = await s.addGroup({ name: `reach-${uid()}`, now: T0 });
        await s.addGroupMember(g.id, U);
        const p = await s.saveProfile({ name: `reach-${uid()}`, scope: 'device', settings: [camera], now: T0 });
        expect(await s.devicesForProfile(p.id)).toEqual([]);
        await s.assignProfile(p.id, { kind: 'group', groupId: g.id }, T0);
        await s.assignProfile(p.id, { kind: 'device', devicePk: c.pk }, T0);
        await s.assignProfile(p.id, { kind: 'device', devicePk: a.pk }, T0);
        expect(await s.devicesForProfile(p.id)).toEqual([a.pk, b.pk, c.pk].sort());
        expect(await s.devicesForProfile(`missing-${uid()}`)).toEqual([]);
      });

      describe('through nested groups', () => {
        /** A group named after `tag`, nested in each of `parents`. */
        async function group(store: Storage, tag: string, ...parents: Array<{ id: string }>) {
          const g = await store.addGroup({ name: `${tag}-${uid()}`, now: T0 });
          for (const p of parents) await store.addGroupToGroup(p.id, g.id);
          return g;
        }
        const profileCommand = (profileId: string): NewCommand => ({
          verb: 'Add',
          item: { locUri: `./Device/${camera.path}`, format: 'int', data: '0' },
          userId: null,
          origin: { kind: 'profile', profileId, setting: camera.path },
        });
        const queued = async (store: Storage, pk: string, profileId: string) =>
          (await store.listCommands(pk)).filter((c) => c.origin.kind === 'profile' && c.origin.profileId === profileId).length;

        it('a profile assigned to a parent group reaches devices whose primary user is in a nested child group', async () => {
          const f = await freshStorage();
          const child = await person('child', f);
          const outsider = await person('outsider', f);
          const d1 = await enrollOwned(child, f);
          const d2 = await enrollOwned(child, f);
          const other = await enrollOwned(outsider, f);
          const parent = await group(f, 'parent');
          const sub = await group(f, 'child', parent);
          const unrelated = await group(f, 'unrelated');
          await f.addGroupMember(sub.id, child);
          await f.addGroupMember(unrelated.id, outsider);
          const dev = await f.saveProfile({ name: `nested-d-${uid()}`, scope: 'device', settings: [camera], now: T0 });
          const usr = await f.saveProfile({ name: `nested-u-${uid()}`, scope: 'user', settings: [sleep], now: T0 });
          await f.assignProfile(dev.id, { kind: 'group', groupId: parent.id }, T0);
          await f.assignProfile(usr.id, { kind: 'group', groupId: parent.id }, T0);

          // Device scope through the primary user; user scope for the signed-in member only.
          expect((await f.profilesForDevice(d1.pk, [])).map((x) => [x.profile.id, x.forUserId])).toEqual([[dev.id, null]]);
          expect((await f.profilesForDevice(d1.pk, [child, outsider])).map((x) => [x.profile.id, x.forUserId]).sort()).toEqual(
            [
              [dev.id, null],
              [usr.id, child],
            ].sort(),
          );
          expect(await f.profilesForDevice(other.pk, [outsider])).toEqual([]);
          // A signed-in member of the nested group on someone else's device gets the user-scope profile only.
          expect((await f.profilesForDevice(other.pk, [child])).map((x) => [x.profile.id, x.forUserId])).toEqual([[usr.id, child]]);

          expect(await f.devicesForProfile(dev.id)).toEqual([d1.pk, d2.pk].sort());
          expect(await f.enqueueForDevices({ groupId: parent.id }, profileCommand(dev.id), T0)).toBe(2);
          expect([await queued(f, d1.pk, dev.id), await queued(f, d2.pk, dev.id), await queued(f, other.pk, dev.id)]).toEqual([1, 1, 0]);

          // The child group itself reaches only its own members; unnesting it cuts the parent's reach.
          expect(await f.enqueueForDevices({ groupId: sub.id }, cmd('./child-only'), T0)).toBe(2);
          await f.removeGroupFromGroup(parent.id, sub.id);
          expect(await f.profilesForDevice(d1.pk, [child])).toEqual([]);
          expect(await f.devicesForProfile(dev.id)).toEqual([]);
          expect(await f.enqueueForDevices({ groupId: parent.id }, profileCommand(dev.id), T0)).toBe(0);
        });

        it('follows a three-level chain', async () => {
          const f = await freshStorage();
          const top = await person('top', f);
          const mid = await person('mid', f);
          const leaf = await person('leaf', f);
          const dTop = await enrollOwned(top, f);
          const dMid = await enrollOwned(mid, f);
          const dLeaf = await enrollOwned(leaf, f);
          const a = await group(f, 'A');
          const b = await group(f, 'B', a);
          const c = await group(f, 'C', b);
          await f.addGroupMember(a.id, top);
          await f.addGroupMember(b.id, mid);
          await f.addGroupMember(c.id, leaf);
          const pa = await f.saveProfile({ name: `chain-a-${uid()}`, scope: 'device', settings: [camera], now: T0 });
          const pb = await f.saveProfile({ name: `chain-b-${uid()}`, scope: 'device', settings: [camera], now: T0 });
          await f.assignProfile(pa.id, { kind: 'group', groupId: a.id }, T0);
          await f.assignProfile(pb.id, { kind: 'group', groupId: b.id }, T0);

          const ids = async (pk: string) => (await f.profilesForDevice(pk, [])).map((x) => x.profile.id).sort();
          expect(await ids(dLeaf.pk)).toEqual([pa.id, pb.id].sort());
          expect(await ids(dMid.pk)).toEqual([pa.id, pb.id].sort());
          expect(await ids(dTop.pk)).toEqual([pa.id]);
          expect(await f.devicesForProfile(pa.id)).toEqual([dTop.pk, dMid.pk, dLeaf.pk].sort());
          expect(await f.devicesForProfile(pb.id)).toEqual([dMid.pk, dLeaf.pk].sort());
          expect(await f.enqueueForDevices({ groupId: a.id }, profileCommand(pa.id), T0)).toBe(3);
          expect(await f.enqueueForDevices({ groupId: b.id }, profileCommand(pb.id), T0)).toBe(2);
          expect(await f.enqueueForDevices({ groupId: c.id }, cmd('./leaf'), T0)).toBe(1);
          for (const pk of [dTop.pk, dMid.pk, dLeaf.pk]) expect(await queued(f, pk, pa.id)).toBe(1);
        });

        it('counts a user reached through two paths (a diamond) once', async () => {
          const f = await freshStorage();
          const U = await person('diamond', f);
          const d1 = await enrollOwned(U, f);
          const d2 = await enrollOwned(U, f);
          //     top
          //    /   \
          // left   right
          //    \   /
          //   bottom ∋ U (and U directly in left too)
          const top = await group(f, 'top');
          const left = await group(f, 'left', top);
          const right = await group(f, 'right', top);
          const bottom = await group(f, 'bottom', left, right);
          await f.addGroupMember(bottom.id, U);
          await f.addGroupMember(left.id, U);
          const dev = await f.saveProfile({ name: `diamond-d-${uid()}`, scope: 'device', settings: [camera], now: T0 });
          const usr = await f.saveProfile({ name: `diamond-u-${uid()}`, scope: 'user', settings: [sleep], now: T0 });
          await f.assignProfile(dev.id, { kind: 'group', groupId: top.id }, T0);
          await f.assignProfile(usr.id, { kind: 'group', groupId: top.id }, T0);

          expect((await f.profilesForDevice(d1.pk, [U])).map((x) => [x.profile.id, x.forUserId]).sort()).toEqual(
            [
              [dev.id, null],
              [usr.id, U],
            ].sort(),
          );
          expect(await f.devicesForProfile(dev.id)).toEqual([d1.pk, d2.pk].sort());
          expect(await f.enqueueForDevices({ groupId: top.id }, profileCommand(dev.id), T0)).toBe(2);
          expect(await queued(f, d1.pk, dev.id)).toBe(1);
          expect(await queued(f, d2.pk, dev.id)).toBe(1);
        });
      });
    });

    describe('applied settings', () => {
      it('upserts by device, user and LocURI, device scope included, and forgets on removal', async () => {
        const { pk } = await enroll();
        const base = { devicePk: pk, format: 'int', profileId: 'p-1' };
        await s.recordApplied({
          ...base,
          userId: null,
          locUri: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera',
          value: '0',
          appliedAt: at(1),
        });
        await s.recordApplied({
          ...base,
          userId: null,
          locUri: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera',
          value: '1',
          profileId: 'p-2',
          appliedAt: at(2),
        });
        await s.recordApplied({
          ...base,
          userId: 'u1',
          locUri: './User/Vendor/MSFT/Policy/Config/Start/HideSleep',
          value: '1',
          appliedAt: at(3),
        });
        await s.recordApplied({
          ...base,
          userId: 'u2',
          locUri: './User/Vendor/MSFT/Policy/Config/Start/HideSleep',
          value: '0',
          appliedAt: at(4),
        });
        await s.recordApplied({
          ...base,
          userId: 'u1',
          locUri: './User/Vendor/MSFT/Policy/Config/Start/HideSleep',
          value: '2',
          appliedAt: at(5),
        });
        expect(await s.listApplied(pk)).toEqual([
          {
            devicePk: pk,
            userId: null,
            locUri: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera',
            format: 'int',
            value: '1',
            profileId: 'p-2',
            appliedAt: at(2),
          },
          {
            devicePk: pk,
            userId: 'u1',
            locUri: './User/Vendor/MSFT/Policy/Config/Start/HideSleep',
            format: 'int',
            value: '2',
            profileId: 'p-1',
            appliedAt: at(5),
          },
          {
            devicePk: pk,
            userId: 'u2',
            locUri: './User/Vendor/MSFT/Policy/Config/Start/HideSleep',
            format: 'int',
            value: '0',
            profileId: 'p-1',
            appliedAt: at(4),
          },
        ]);
        await s.removeApplied(pk, 'u1', './User/Vendor/MSFT/Policy/Config/Start/HideSleep');
        await s.removeApplied(pk, null, './User/Vendor/MSFT/Policy/Config/Start/HideSleep'); // no such device-scope row
        expect((await s.listApplied(pk)).map((a) => a.userId)).toEqual([null, 'u2']);
        await s.removeApplied(pk, null, './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera');
        expect((await s.listApplied(pk)).map((a) => a.userId)).toEqual(['u2']);
        expect(await s.listApplied(`missing-${uid()}`)).toEqual([]);
        await expectCode(
          s.recordApplied({ ...base, devicePk: `missing-${uid()}`, userId: null, locUri: './Device/X', value: '1', appliedAt: T0 }),
          'not_found',
          NotFoundError,
        );
      });

      it('dedupes concurrent device-scope upserts of one setting', async () => {
        const { pk } = await enroll();
        await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            s.recordApplied({
              devicePk: pk,
              userId: null,
              locUri: './Device/Same',
              format: 'chr',
              value: `v${i}`,
              profileId: 'p',
              appliedAt: at(i),
            }),
          ),
        );
        expect(await s.listApplied(pk)).toHaveLength(1);
      });
    });

    describe('users of a device', () => {
      const user = async (name: string) =>
        s.addUser({ upn: `${name}-${uid()}@contoso.com`, displayName: `${name} display`, passwordHash: 'h', now: T0 });

      it('sets, shows and clears the primary user; a new device has none', async () => {
        const { pk, input } = await enroll();
        const other = await enroll();
        const alice = await user('alice');
        expect(await s.getDevice(input.deviceId)).toMatchObject({ primaryUserId: null, primaryUpn: null });

        await s.setPrimaryUser(pk, alice.id);
        const shown = { primaryUserId: alice.id, primaryUpn: alice.upn };
        expect(await s.getDevice(input.deviceId)).toMatchObject(shown);
        expect((await s.getManagedDevice(input.deviceId))?.device).toMatchObject(shown);
        expect((await s.listDevices()).find((d) => d.id === pk)).toMatchObject(shown);
        expect((await s.listDevicesPage({ limit: 500 })).find((d) => d.device.id === pk)?.device).toMatchObject(shown);
        expect(await s.getDevice(other.input.deviceId)).toMatchObject({ primaryUserId: null });

        await s.setPrimaryUser(pk, null);
        expect(await s.getDevice(input.deviceId)).toMatchObject({ primaryUserId: null, primaryUpn: null });
      });

      it('refuses an unknown user or device and changes nothing', async () => {
        const { pk, input } = await enroll();
        const bob = await user('bob');
        await s.setPrimaryUser(pk, bob.id);
        await expectCode(s.setPrimaryUser(pk, 'no-such-user'), 'not_found', NotFoundError);
        await expectCode(s.setPrimaryUser('no-such-device', bob.id), 'not_found', NotFoundError);
        await expectCode(s.setPrimaryUser('no-such-device', null), 'not_found', NotFoundError);
        expect(await s.getDevice(input.deviceId)).toMatchObject({ primaryUserId: bob.id, primaryUpn: bob.upn });
      });

      it('records sign-ins per user with first and last sighting, newest first, never moving back', async () => {
        const { pk } = await enroll();
        const [a, b] = [await user('a'), await user('b')];
        expect(await s.listDeviceUsers(pk)).toEqual([]);
        await s.recordDeviceUser(pk, a.id, at(1000));
        await s.recordDeviceUser(pk, b.id, at(2000));
        await s.recordDeviceUser(pk, a.id, at(3000));
        // A late sighting from before the first one: it moves first-seen back, not last-seen.
        await s.recordDeviceUser(pk, b.id, at(500));
        expect(await s.listDeviceUsers(pk)).toEqual([
          { userId: a.id, upn: a.upn, displayName: 'a display', firstSeenAt: at(1000), lastSeenAt: at(3000) },
          { userId: b.id, upn: b.upn, displayName: 'b display', firstSeenAt: at(500), lastSeenAt: at(2000) },
        ]);
        // Another device's users are its own.
        const other = await enroll();
        expect(await s.listDeviceUsers(other.pk)).toEqual([]);
      });

      it('lets concurrent sign-ins of one user land as one row', async () => {
        const { pk } = await enroll();
        const c = await user('c');
        await Promise.all(Array.from({ length: 6 }, (_, i) => s.recordDeviceUser(pk, c.id, at(i * 10))));
        expect(await s.listDeviceUsers(pk)).toEqual([
          { userId: c.id, upn: c.upn, displayName: 'c display', firstSeenAt: at(0), lastSeenAt: at(50) },
        ]);
      });

      it('refuses a sighting of an unknown user or device, and forgets a deleted device’s users', async () => {
        const { pk } = await enroll();
        const d = await user('d');
        await expectCode(s.recordDeviceUser(pk, 'no-such-user', T0), 'not_found', NotFoundError);
        await expectCode(s.recordDeviceUser('no-such-device', d.id, T0), 'not_found', NotFoundError);
        await s.recordDeviceUser(pk, d.id, T0);
        await s.deleteDevice(pk);
        expect(await s.listDeviceUsers(pk)).toEqual([]);
      });

      it("lists a user's devices (primary, enrolled by them, shared ones they signed in to) and nobody else's", async () => {
        const [me, other] = [await user('me'), await user('other')];
        const primary = await enroll({ userId: other.id });
        await s.setPrimaryUser(primary.pk, me.id);
        const enrolledByMe = await enroll({ userId: me.id });
        await s.setPrimaryUser(enrolledByMe.pk, other.id);
        const shared = await enroll({ userId: other.id });
        await s.recordDeviceUser(shared.pk, me.id, T0);
        // Signed in to a device with another primary user: not mine (the portal shows it nowhere).
        const theirs = await enroll({ userId: other.id });
        await s.setPrimaryUser(theirs.pk, other.id);
        await s.recordDeviceUser(theirs.pk, me.id, T0);
        // Several reasons for one device still list it once.
        const twice = await enroll({ userId: me.id });
        await s.setPrimaryUser(twice.pk, me.id);
        await s.recordDeviceUser(twice.pk, me.id, T0);
        for (let i = 0; i < 20; i++) await enroll({ userId: other.id });

        const mine = await s.listDevicesOfUser(me.id);
        expect(mine.map((d) => d.id).sort()).toEqual([primary.pk, enrolledByMe.pk, shared.pk, twice.pk].sort());
        expect(mine.find((d) => d.id === primary.pk)).toMatchObject({ primaryUserId: me.id, primaryUpn: me.upn });
        // The same set as the whole-fleet rule the portal applied before this read existed.
        const all = await s.listDevices();
        const expected = [];
        for (const d of all) {
          if (d.primaryUserId === me.id || d.userId === me.id) expected.push(d.id);
          else if (d.primaryUserId === null && (await s.listDeviceUsers(d.id)).some((u) => u.userId === me.id)) expected.push(d.id);
        }
        expect(mine.map((d) => d.id)).toEqual(expected);
        expect(await s.listDevicesOfUser('no-such-user')).toEqual([]);
      });
    });

    describe('upgrade from 0007', () => {
      it('gives existing devices their enrolling user as primary user, except bulk and DEM enrollments', async () => {
        const db = await target.createDatabase();
        databases.push(db);
        const location = parseStorageUrl(db.url);
        const opened = location.kind === 'postgres' ? openPostgres(location.url) : openSqlite(location.path);
        const now = T0.toISOString();
        try {
          const { error } = await new Migrator({ db: opened.db, provider: new StaticMigrationProvider(opened.kind) }).migrateTo(
            '0007_directory_tenants',
          );
          expect(error).toBeUndefined();
          await opened.db
            .insertInto('users')
            .values({
              id: 'u',
              upn: 'u@contoso.com',
              display_name: null,
              password_hash: 'h',
              enabled: 1,
              created_at: now,
              updated_at: now,
            } as never)
            .execute();
          // [device, enrollment type, method of its last successful attempt, enrolling user]
          const devices = [
            ['dev-user', 'Full', null, 'u'],
            ['dev-join', 'Device', 'automatic', 'u'],
            ['dev-bulk', 'Device', 'bulk', 'u'],
            ['dev-dem', 'Device', 'dem', 'u'],
            ['dev-unknown', 'Device', null, 'u'],
            ['dev-nouser', 'Full', null, 'federated-only'],
          ] as const;
          for (const [id, type, method, userId] of devices) {
            await opened.db
              .insertInto('devices')
              .values({
                id,
                device_id: id.toUpperCase(),
                enrollment_type: type,
                user_id: userId,
                upn: 'u@contoso.com',
                status: 'enrolled',
                first_enrolled_at: now,
                last_enrolled_at: now,
                current_enrollment_id: null,
                ownership: type === 'Full' ? 'personal' : 'corporate',
              } as never)
              .execute();
            if (method === null) continue;
            // An older automatic attempt does not count: the last successful one decides.
            for (const [i, m] of [
              [0, 'automatic'],
              [1, method],
            ] as const) {
              await opened.db
                .insertInto('enrollment_attempts')
                .values({
                  id: `att-${id}-${i}`,
                  at: new Date(T0.getTime() + i * 1000).toISOString(),
                  trace_id: `trace-${id}-${i}`,
                  upn: 'u@contoso.com',
                  user_id: userId,
                  device_id: id.toUpperCase(),
                  method: m,
                  enrollment_type: type,
                  os_version: null,
                  ownership: 'corporate',
                  outcome: 'mdm',
                  error_type: null,
                  subcode: null,
                  reasons: '[]',
                  policies: '{}',
                } as never)
                .execute();
            }
          }
        } finally {
          await opened.db.destroy();
        }
        const h = await openStorage(db.url);
        handles.push(h);
        const primary = async (id: string) => (await h.getDevice(id))?.primaryUpn ?? null;
        expect(await primary('DEV-USER')).toBe('u@contoso.com');
        expect(await primary('DEV-JOIN')).toBe('u@contoso.com');
        expect(await primary('DEV-BULK')).toBeNull();
        expect(await primary('DEV-DEM')).toBeNull();
        expect(await primary('DEV-UNKNOWN')).toBeNull();
        expect(await primary('DEV-NOUSER')).toBeNull();
        expect(await h.listDeviceUsers('dev-join')).toEqual([]);
      });
    });

    describe('upgrade from 0001', () => {
      it('keeps existing devices and derives their ownership from the enrollment type', async () => {
        const db = await target.createDatabase();
        databases.push(db);
        const location = parseStorageUrl(db.url);
        const opened = location.kind === 'postgres' ? openPostgres(location.url) : openSqlite(location.path);
        try {
          const { error } = await new Migrator({ db: opened.db, provider: new StaticMigrationProvider(opened.kind) }).migrateTo(
            '0001_initial',
          );
          expect(error).toBeUndefined();
          const now = T0.toISOString();
          for (const [id, type] of [
            ['dev-corp', 'Device'],
            ['dev-personal', 'Full'],
          ] as const) {
            await opened.db
              .insertInto('devices')
              // The 0001 shape: the columns 0002 adds do not exist yet.
              .values({
                id,
                device_id: id.toUpperCase(),
                enrollment_type: type,
                user_id: 'u',
                upn: 'u@contoso.com',
                status: 'enrolled',
                first_enrolled_at: now,
                last_enrolled_at: now,
                current_enrollment_id: `enr-${id}`,
              } as never)
              .execute();
            await opened.db
              .insertInto('enrollments')
              .values({
                id: `enr-${id}`,
                device_pk: id,
                device_id: id.toUpperCase(),
                user_id: 'u',
                upn: 'u@contoso.com',
                enrollment_type: type,
                auth_policy: 'OnPremise',
                status: 'active',
                cert_serial: `serial-${id}`,
                cert_thumbprint: `THUMB-${id.toUpperCase()}`,
                cert_not_before: now,
                cert_not_after: now,
                cert_der: new Uint8Array([1, 2, 3]),
                created_at: now,
              } as never)
              .execute();
          }
        } finally {
          await opened.db.destroy();
        }
        const h = await openStorage(db.url);
        handles.push(h);
        expect((await h.getManagedDevice('DEV-CORP'))?.ownership).toBe('corporate');
        const personal = await h.getManagedDevice('DEV-PERSONAL');
        expect(personal).toMatchObject({ ownership: 'personal', lastCheckInAt: null, inventory: null, retiredAt: null });
        expect(personal?.enrollment.revokedAt).toBeNull();
        expect(await h.enqueue('dev-corp', [cmd('./x')], T0)).toHaveLength(1);
      });
    });
  });
}
