/**
 * Conformance suite of the admin storage ports (core/admin/ports.ts): admin roles, sessions, API
 * tokens, the audit log and the paged device list. Every backend runs exactly these tests, from
 * sqlite.test.ts and postgres.test.ts.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditActor, NewAuditEntry } from '../../src/core/admin/ports.js';
import type { Storage } from '../../src/core/ports.js';
import { ConflictError, NotFoundError, type WinrollError } from '../../src/shared/errors.js';
import { openStorage } from '../../src/storage/sql/sql-storage.js';
import { newEnrollment, type StorageTestTarget } from './storage.suite.js';

const T0 = new Date('2025-06-01T10:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const uid = (): string => randomBytes(4).toString('hex');
const hash = (): string => randomBytes(32).toString('hex');

async function expectError(p: Promise<unknown>, code: string, cls: abstract new (...a: never[]) => Error): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, `expected a ${code} error`).toBeInstanceOf(cls);
  expect((err as WinrollError).code).toBe(code);
}

function entry(overrides: Partial<NewAuditEntry> = {}): NewAuditEntry {
  return {
    at: T0,
    actor: { kind: 'cli' },
    action: 'test.change',
    targetType: 'thing',
    targetId: `t-${uid()}`,
    before: null,
    after: { ok: true },
    outcome: 'succeeded',
    error: null,
    traceId: null,
    ...overrides,
  };
}

export function adminConformanceSuite(target: StorageTestTarget): void {
  describe(`Admin storage conformance (${target.kind})`, () => {
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

    async function user(prefix = 'admin') {
      return s.addUser({ upn: `${prefix}-${uid()}@contoso.com`, displayName: null, passwordHash: 'scrypt$x', now: T0 });
    }

    describe('admin roles', () => {
      it('creates, changes and lists roles with the directory facts', async () => {
        const a = await user('b');
        const b = await user('a');
        const created = await s.setAdminRole({ userId: a.id, role: 'readonly', now: T0 });
        expect(created).toMatchObject({ userId: a.id, upn: a.upn, role: 'readonly', enabled: true });
        const changed = await s.setAdminRole({ userId: a.id, role: 'administrator', now: at(1000) });
        expect(changed.role).toBe('administrator');
        expect(changed.createdAt).toEqual(T0);
        expect(changed.updatedAt).toEqual(at(1000));
        await s.setAdminRole({ userId: b.id, role: 'helpdesk', now: T0 });
        const list = await s.listAdmins();
        const ours = list.filter((x) => x.userId === a.id || x.userId === b.id);
        expect(ours.map((x) => x.upn)).toEqual([b.upn, a.upn].sort());
        expect(await s.getAdmin(b.id)).toMatchObject({ role: 'helpdesk' });
        expect(await s.getAdmin('no-such-user')).toBeUndefined();
      });

      it('refuses a role for an unknown user', async () => {
        await expectError(s.setAdminRole({ userId: 'nobody', role: 'readonly', now: T0 }), 'not_found', NotFoundError);
      });

      it('writes the audit entry in the same transaction as the change', async () => {
        const u = await user();
        const targetId = `atomic-${uid()}`;
        await s.setAdminRole({ userId: u.id, role: 'readonly', now: T0 }, entry({ targetType: 'admin', targetId }));
        expect(await s.listAudit({ targetType: 'admin', targetId, limit: 10 })).toHaveLength(1);

        // An audit entry the database refuses (outcome violates its check) rolls the role change back.
        const bad = entry({ targetType: 'admin', targetId, outcome: 'bogus' as never });
        await expect(s.setAdminRole({ userId: u.id, role: 'administrator', now: at(1) }, bad)).rejects.toThrow();
        expect((await s.getAdmin(u.id))?.role).toBe('readonly');
      });

      it('removing an admin ends their sessions and revokes their tokens, once', async () => {
        const u = await user();
        await s.setAdminRole({ userId: u.id, role: 'administrator', now: T0 });
        const idHash = hash();
        await s.createAdminSession({ idHash, userId: u.id, csrfToken: 'c', createdAt: T0, lastSeenAt: T0, expiresAt: at(3600_000) });
        const token = await s.createApiToken({
          id: uid(),
          name: `n-${uid()}`,
          tokenHash: hash(),
          role: 'readonly',
          createdByUserId: u.id,
          createdAt: T0,
          expiresAt: null,
        });
        expect(await s.removeAdmin(u.id, at(5000))).toBe(true);
        expect(await s.getAdmin(u.id)).toBeUndefined();
        expect(await s.getAdminSession(idHash)).toBeUndefined();
        expect((await s.getApiToken(token.id))?.revokedAt).toEqual(at(5000));
        expect(await s.removeAdmin(u.id, at(6000))).toBe(false);
      });
    });

    describe('sessions', () => {
      it('stores, touches forward only, deletes and prunes', async () => {
        const u = await user();
        const live = hash();
        const idle = hash();
        const expired = hash();
        await s.createAdminSession({
          idHash: live,
          userId: u.id,
          csrfToken: 'csrf-1',
          createdAt: T0,
          lastSeenAt: T0,
          expiresAt: at(12 * 3600_000),
        });
        await s.createAdminSession({
          idHash: idle,
          userId: u.id,
          csrfToken: 'csrf-2',
          createdAt: T0,
          lastSeenAt: T0,
          expiresAt: at(12 * 3600_000),
        });
        await s.createAdminSession({
          idHash: expired,
          userId: u.id,
          csrfToken: 'csrf-3',
          createdAt: T0,
          lastSeenAt: at(3600_000),
          expiresAt: at(3600_000),
        });
        expect(await s.getAdminSession(live)).toEqual({
          idHash: live,
          userId: u.id,
          csrfToken: 'csrf-1',
          createdAt: T0,
          lastSeenAt: T0,
          expiresAt: at(12 * 3600_000),
        });

        await s.touchAdminSession(live, at(60_000));
        await s.touchAdminSession(live, at(30_000));
        expect((await s.getAdminSession(live))?.lastSeenAt).toEqual(at(60_000));
        await s.touchAdminSession(live, at(2 * 3600_000));

        // At T0 + 2 h: `idle` was last seen 2 h ago, `expired` reached its end.
        const pruned = await s.pruneAdminSessions(at(2 * 3600_000), at(2 * 3600_000 - 30 * 60_000));
        expect(pruned).toBeGreaterThanOrEqual(2);
        expect(await s.getAdminSession(live)).toBeDefined();
        expect(await s.getAdminSession(idle)).toBeUndefined();
        expect(await s.getAdminSession(expired)).toBeUndefined();

        await s.deleteAdminSession(live);
        expect(await s.getAdminSession(live)).toBeUndefined();
      });

      it('refuses a session for an unknown user', async () => {
        await expectError(
          s.createAdminSession({ idHash: hash(), userId: 'nobody', csrfToken: 'c', createdAt: T0, lastSeenAt: T0, expiresAt: at(1) }),
          'not_found',
          NotFoundError,
        );
      });
    });

    describe('API tokens', () => {
      it('finds tokens by hash, refuses a live duplicate name and allows it after revocation', async () => {
        const u = await user();
        const name = `deploy-${uid()}`;
        const h = hash();
        const t = await s.createApiToken({
          id: uid(),
          name,
          tokenHash: h,
          role: 'helpdesk',
          createdByUserId: u.id,
          createdAt: T0,
          expiresAt: at(86400_000),
        });
        expect(t).toMatchObject({
          name,
          role: 'helpdesk',
          createdByUserId: u.id,
          createdByUpn: u.upn,
          lastUsedAt: null,
          revokedAt: null,
          expiresAt: at(86400_000),
        });
        expect((await s.getApiTokenByHash(h))?.id).toBe(t.id);
        expect(await s.getApiTokenByHash(hash())).toBeUndefined();

        await expectError(
          s.createApiToken({ id: uid(), name, tokenHash: hash(), role: 'readonly', createdByUserId: u.id, createdAt: T0, expiresAt: null }),
          'conflict',
          ConflictError,
        );
        await s.touchApiToken(t.id, at(10));
        expect((await s.getApiToken(t.id))?.lastUsedAt).toEqual(at(10));

        expect(await s.revokeApiToken(t.id, at(20))).toBe(true);
        expect(await s.revokeApiToken(t.id, at(30))).toBe(false);
        expect((await s.getApiToken(t.id))?.revokedAt).toEqual(at(20));
        const again = await s.createApiToken({
          id: uid(),
          name,
          tokenHash: hash(),
          role: 'readonly',
          createdByUserId: u.id,
          createdAt: at(40),
          expiresAt: null,
        });
        const listed = (await s.listApiTokens()).filter((x) => x.name === name);
        expect(listed.map((x) => x.id)).toEqual([again.id, t.id]);
      });

      it('writes the audit entry with the token, and not when revocation changes nothing', async () => {
        const u = await user();
        const id = uid();
        await s.createApiToken(
          { id, name: `a-${uid()}`, tokenHash: hash(), role: 'readonly', createdByUserId: u.id, createdAt: T0, expiresAt: null },
          entry({ targetType: 'api_token', targetId: id }),
        );
        await s.revokeApiToken(id, at(1), entry({ targetType: 'api_token', targetId: id, action: 'revoke' }));
        await s.revokeApiToken(id, at(2), entry({ targetType: 'api_token', targetId: id, action: 'revoke' }));
        const entries = await s.listAudit({ targetType: 'api_token', targetId: id, limit: 10 });
        expect(entries.map((e) => e.action).sort()).toEqual(['revoke', 'test.change']);
      });
    });

    describe('audit log', () => {
      it('completes pending entries once', async () => {
        const e = await s.appendAudit(entry({ outcome: 'pending', after: null }));
        expect(e.outcome).toBe('pending');
        await s.completeAudit(e.id, { outcome: 'succeeded', after: { n: 1, nested: { list: [1, 'two'] } }, error: null });
        const [read] = await s.listAudit({ targetId: e.targetId ?? '', limit: 5 });
        expect(read).toMatchObject({
          id: e.id,
          outcome: 'succeeded',
          after: { n: 1, nested: { list: [1, 'two'] } },
          before: null,
          actorName: 'cli',
        });
        await expectError(s.completeAudit(e.id, { outcome: 'failed', after: null, error: 'x' }), 'not_found', NotFoundError);
      });

      it('filters by target, actor and time and pages newest first with a stable tie-break', async () => {
        const targetId = `page-${uid()}`;
        const admin: AuditActor = { kind: 'admin', userId: `u-${uid()}`, upn: `Boss-${uid()}@Contoso.com` };
        const token: AuditActor = { kind: 'token', tokenId: `t-${uid()}`, name: `ci-${uid()}`, userId: 'u-x', upn: 'x@contoso.com' };
        const ids: string[] = [];
        for (let i = 0; i < 5; i++) {
          // Two entries share each timestamp: the id breaks the tie.
          const e = await s.appendAudit(
            entry({ targetType: 'device', targetId, at: at(Math.floor(i / 2) * 1000), actor: i === 4 ? token : admin, before: { i } }),
          );
          ids.push(e.id);
        }
        const all = await s.listAudit({ targetType: 'device', targetId, limit: 10 });
        expect(all).toHaveLength(5);
        const order = all.map((e) => `${e.at.toISOString()} ${e.id}`);
        expect(order).toEqual([...order].sort().reverse());

        const page1 = await s.listAudit({ targetType: 'device', targetId, limit: 2 });
        const last = page1.at(-1);
        if (!last) throw new Error('empty page');
        const page2 = await s.listAudit({ targetType: 'device', targetId, limit: 2, after: { at: last.at, id: last.id } });
        const page3 = await s.listAudit({
          targetType: 'device',
          targetId,
          limit: 2,
          after: { at: (page2.at(-1) as { at: Date }).at, id: (page2.at(-1) as { id: string }).id },
        });
        expect([...page1, ...page2, ...page3].map((e) => e.id)).toEqual(all.map((e) => e.id));

        expect(await s.listAudit({ targetId, actor: admin.upn.toLowerCase(), limit: 10 })).toHaveLength(4);
        expect(await s.listAudit({ targetId, actor: admin.kind === 'admin' ? admin.userId : '', limit: 10 })).toHaveLength(4);
        const byToken = await s.listAudit({ targetId, actor: token.kind === 'token' ? token.name : '', limit: 10 });
        expect(byToken).toHaveLength(1);
        expect(byToken[0]?.actor).toEqual(token);
        expect(byToken[0]?.actorName).toBe(`token:${token.kind === 'token' ? token.name : ''}`);
        expect(await s.listAudit({ targetId, since: at(1000), limit: 10 })).toHaveLength(3);
        expect(await s.listAudit({ targetId, actor: 'cli', limit: 10 })).toHaveLength(0);
      });

      it('keeps end users (Company Portal) as actors of their own kind, filterable by kind', async () => {
        const targetId = `portal-${uid()}`;
        const endUser: AuditActor = { kind: 'user', userId: `u-${uid()}`, upn: `Alice-${uid()}@Contoso.com` };
        const admin: AuditActor = { kind: 'admin', userId: `u-${uid()}`, upn: `boss-${uid()}@contoso.com` };
        await s.appendAudit(entry({ targetType: 'device', targetId, actor: endUser, action: 'device.action.retire', at: at(1000) }));
        await s.appendAudit(entry({ targetType: 'device', targetId, actor: admin, action: 'device.action.sync', at: at(2000) }));
        const mine = await s.listAudit({ targetId, actorKind: 'user', limit: 10 });
        expect(mine).toHaveLength(1);
        expect(mine[0]?.actor).toEqual({ ...endUser, upn: endUser.upn.toLowerCase() });
        expect(mine[0]?.actorName).toBe(endUser.upn.toLowerCase());
        expect((await s.listAudit({ targetId, actorKind: 'admin', limit: 10 })).map((e) => e.action)).toEqual(['device.action.sync']);
        expect(await s.listAudit({ targetId, actorKind: 'cli', limit: 10 })).toEqual([]);
        // The UPN filter finds end users as it finds admins.
        expect(await s.listAudit({ targetId, actor: endUser.upn, limit: 10 })).toHaveLength(1);
      });
    });

    describe('device pages', () => {
      it('filters by status, ownership and UPN and pages by DeviceID', async () => {
        const upn = `pager-${uid()}@contoso.com`;
        const devices = [];
        for (let i = 0; i < 5; i++) {
          const r = await s.recordEnrollment(newEnrollment({ upn, enrollmentType: i < 2 ? 'Device' : 'Full' }));
          devices.push(r.device);
        }
        const unenrolled = devices[4];
        if (!unenrolled) throw new Error('no device');
        await s.markUnenrolled(unenrolled.id, T0);
        const sortedIds = devices.map((d) => d.deviceId).sort();

        const all = await s.listDevicesPage({ upn: upn.toUpperCase(), limit: 10 });
        expect(all.map((d) => d.device.deviceId)).toEqual(sortedIds);
        const first = await s.listDevicesPage({ upn, limit: 2 });
        const next = await s.listDevicesPage({ upn, limit: 10, afterDeviceId: first.at(-1)?.device.deviceId });
        expect([...first, ...next].map((d) => d.device.deviceId)).toEqual(sortedIds);

        expect((await s.listDevicesPage({ upn, ownership: 'corporate', limit: 10 })).map((d) => d.ownership)).toEqual([
          'corporate',
          'corporate',
        ]);
        const gone = await s.listDevicesPage({ upn, status: 'unenrolled', limit: 10 });
        expect(gone.map((d) => d.device.deviceId)).toEqual([unenrolled.deviceId]);
        expect(gone[0]).toMatchObject({ lastCheckInAt: null, retiredAt: null });
      });

      it('searches and filters by OS version, last check-in, compliance and management mode (admin console)', async () => {
        const upn = `console-${uid()}@contoso.com`;
        const name = `Kiosk_${uid()}`;
        const w11 = await s.recordEnrollment(newEnrollment({ upn, osVersion: '10.0.22631.1', deviceName: name }));
        const w10 = await s.recordEnrollment(newEnrollment({ upn, osVersion: '10.0.19045.1' }));
        await s.recordCheckIn(w11.device.id, at(10 * 86_400_000));
        const ids = async (q: Omit<Parameters<Storage['listDevicesPage']>[0], 'limit'>) =>
          (await s.listDevicesPage({ upn, limit: 10, ...q })).map((d) => d.device.deviceId);

        expect(await ids({ osVersionAtLeast: '10.0.22000' })).toEqual([w11.device.deviceId]);
        expect(await ids({ osVersionBelow: '10.0.22000' })).toEqual([w10.device.deviceId]);
        // Case-insensitive substring of the name; the wildcard characters match only themselves.
        expect(await ids({ search: name.toUpperCase() })).toEqual([w11.device.deviceId]);
        expect(await ids({ search: 'Kiosk%' })).toEqual([]);
        expect(await ids({ search: w10.device.deviceId.slice(0, 10).toLowerCase() })).toEqual([w10.device.deviceId]);
        expect(await ids({ search: upn.slice(0, 12).toUpperCase() })).toHaveLength(2);
        expect(await ids({ checkedInSince: at(9 * 86_400_000) })).toEqual([w11.device.deviceId]);
        expect(await ids({ notCheckedInSince: at(9 * 86_400_000) })).toEqual([w10.device.deviceId]);
        expect((await ids({ compliance: 'unknown' })).sort()).toEqual([w10.device.deviceId, w11.device.deviceId].sort());
        expect(await ids({ compliance: 'compliant' })).toEqual([]);
        expect(await ids({ managementMode: 'mam' })).toEqual([]);
        expect((await s.listDevicesPage({ upn, limit: 10 }))[0]).toHaveProperty('compliance', null);
      });

      it('counts devices and the enrollment attempts of a window by hour (dashboard)', async () => {
        const before = await s.dashboardCounts(at(0), at(1));
        await s.recordEnrollment(newEnrollment({ enrollmentType: 'Device' }));
        const after = await s.dashboardCounts(at(0), at(1));
        expect(after.devices.total - before.devices.total).toBe(1);
        expect(after.devices.corporate - before.devices.corporate).toBe(1);
        expect(after.devices.mdm - before.devices.mdm).toBe(1);

        // A window of its own, far away from the other tests' attempts.
        const base = new Date('2091-03-04T05:00:00.000Z').getTime();
        const attempt = (ms: number, outcome: 'mdm' | 'refused') =>
          s.recordEnrollmentAttempt({
            at: new Date(base + ms),
            traceId: uid(),
            upn: null,
            userId: null,
            deviceId: null,
            method: 'user',
            enrollmentType: 'Full',
            osVersion: null,
            ownership: null,
            outcome,
            errorType: null,
            subcode: null,
            reasons: [],
            policies: {},
          });
        await attempt(60_000, 'mdm');
        await attempt(120_000, 'refused');
        await attempt(3_600_000 + 5, 'mdm');
        const counts = await s.dashboardCounts(new Date(base - 1800_000), new Date(base + 2 * 3_600_000));
        expect(counts.attemptsByHour).toEqual([
          { hour: '2091-03-04T04:00:00.000Z', enrolled: 0, failed: 0 },
          { hour: '2091-03-04T05:00:00.000Z', enrolled: 1, failed: 1 },
          { hour: '2091-03-04T06:00:00.000Z', enrolled: 1, failed: 0 },
          { hour: '2091-03-04T07:00:00.000Z', enrolled: 0, failed: 0 },
        ]);
      });
    });
  });
}
