/**
 * Conformance suite of the second-factor storage port (core/mfa/ports.ts), run by sqlite.test.ts and
 * postgres.test.ts, plus the MFA service on top of each backend: secrets sealed at rest (the raw column
 * never holds the base32 secret), confirm/reset, replay protection through the stored time step, the
 * attempt limit, and the requirement kept in the tenant settings with groups evaluated transitively.
 */
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { generate } from 'otplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MFA_ATTEMPT_LIMIT, MFA_ATTEMPT_WINDOW_MS, MfaService } from '../../src/core/mfa/mfa-service.js';
import type { Storage, User } from '../../src/core/ports.js';
import { fixedClock } from '../../src/shared/clock.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../../src/shared/errors.js';
import { openPostgres, openSqlite, parseStorageUrl } from '../../src/storage/sql/dialects.js';
import { openStorage } from '../../src/storage/sql/sql-storage.js';
import type { StorageTestTarget } from './storage.suite.js';

const T0 = new Date('2025-03-04T05:06:07.891Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const uid = (): string => randomBytes(4).toString('hex');

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

export function mfaConformanceSuite(target: StorageTestTarget): void {
  describe(`MFA storage conformance (${target.kind})`, () => {
    let database: { url: string; drop(): Promise<void> };
    let s: Storage;

    beforeAll(async () => {
      database = await target.createDatabase();
      s = await openStorage(database.url);
      await s.addDomain({ name: 'contoso.com', authPolicy: 'Federated', now: T0 });
    });
    afterAll(async () => {
      await s?.close();
      await database?.drop();
    });

    const newUser = (): Promise<User> => s.addUser({ upn: `u-${uid()}@contoso.com`, displayName: null, passwordHash: 'h', now: T0 });

    /** The raw text of a column, read past the repository. */
    async function rawSecrets(): Promise<string[]> {
      const location = parseStorageUrl(database.url);
      const opened = location.kind === 'postgres' ? openPostgres(location.url) : openSqlite(location.path);
      try {
        const { rows } = await sql<{ secret: string }>`select secret from mfa_factors`.execute(opened.db);
        return rows.map((r) => r.secret);
      } finally {
        await opened.db.destroy();
      }
    }

    describe('factors', () => {
      it('stores a pending factor, lists it without its secret, and replaces it while pending', async () => {
        const u = await newUser();
        expect(await s.getMfaFactor(u.id)).toBeUndefined();
        expect(await s.savePendingMfaFactor({ userId: u.id, secretCiphertext: 'sealed-1', now: T0 })).toBe(true);
        expect(await s.getMfaFactor(u.id)).toEqual({
          userId: u.id,
          kind: 'totp',
          status: 'pending',
          secretCiphertext: 'sealed-1',
          lastTimeStep: null,
          createdAt: T0,
          confirmedAt: null,
          lastUsedAt: null,
        });
        const listed = (await s.listMfaFactors()).find((f) => f.userId === u.id);
        expect(listed).toMatchObject({ status: 'pending' });
        expect(listed).not.toHaveProperty('secretCiphertext');
        expect(JSON.stringify(await s.listMfaFactors())).not.toContain('sealed-1');

        expect(await s.savePendingMfaFactor({ userId: u.id, secretCiphertext: 'sealed-2', now: at(1000) })).toBe(true);
        expect(await s.getMfaFactor(u.id)).toMatchObject({ status: 'pending', secretCiphertext: 'sealed-2', createdAt: at(1000) });
      });

      it('refuses a factor for an unknown user', async () => {
        const err = await rejection(s.savePendingMfaFactor({ userId: 'no-such-user', secretCiphertext: 'x', now: T0 }));
        expect(err).toBeInstanceOf(NotFoundError);
      });

      it('activates once, remembering the time step, and never overwrites an active factor', async () => {
        const u = await newUser();
        expect(await s.activateMfaFactor(u.id, 100, T0)).toBe(false); // nothing pending
        await s.savePendingMfaFactor({ userId: u.id, secretCiphertext: 'sealed', now: T0 });
        expect(await s.activateMfaFactor(u.id, 100, at(5000))).toBe(true);
        expect(await s.activateMfaFactor(u.id, 101, at(6000))).toBe(false);
        expect(await s.getMfaFactor(u.id)).toMatchObject({
          status: 'active',
          lastTimeStep: 100,
          confirmedAt: at(5000),
          lastUsedAt: at(5000),
        });
        expect(await s.savePendingMfaFactor({ userId: u.id, secretCiphertext: 'other', now: at(7000) })).toBe(false);
        expect(await s.getMfaFactor(u.id)).toMatchObject({ status: 'active', secretCiphertext: 'sealed' });
      });

      it('records a use only for a later time step (replays and races lose)', async () => {
        const u = await newUser();
        await s.savePendingMfaFactor({ userId: u.id, secretCiphertext: 'sealed', now: T0 });
        expect(await s.recordMfaUse(u.id, 200, T0)).toBe(false); // pending factors are not used
        await s.activateMfaFactor(u.id, 200, T0);
        expect(await s.recordMfaUse(u.id, 200, at(1000))).toBe(false);
        expect(await s.recordMfaUse(u.id, 199, at(1000))).toBe(false);
        expect(await s.recordMfaUse(u.id, 201, at(2000))).toBe(true);
        expect(await s.getMfaFactor(u.id)).toMatchObject({ lastTimeStep: 201, lastUsedAt: at(2000) });
        // Ten requests with the same new step at once: exactly one wins.
        const wins = await Promise.all(Array.from({ length: 10 }, () => s.recordMfaUse(u.id, 202, at(3000))));
        expect(wins.filter(Boolean)).toHaveLength(1);
        // Large steps (far future) still fit.
        expect(await s.recordMfaUse(u.id, 2_000_000_000, at(4000))).toBe(true);
        expect((await s.getMfaFactor(u.id))?.lastTimeStep).toBe(2_000_000_000);
      });

      it('counts attempts in a fixed window, restarts it when it ended, and clears it on success', async () => {
        const u = await newUser();
        const window = (now: Date) => new Date(now.getTime() - 60_000);
        expect(await s.countMfaAttempt(u.id, T0, window(T0))).toBe(0); // no factor
        await s.savePendingMfaFactor({ userId: u.id, secretCiphertext: 'sealed', now: T0 });
        await s.activateMfaFactor(u.id, 10, T0);
        expect(await s.countMfaAttempt(u.id, at(0), window(at(0)))).toBe(1);
        expect(await s.countMfaAttempt(u.id, at(10_000), window(at(10_000)))).toBe(2);
        const concurrent = await Promise.all(Array.from({ length: 5 }, () => s.countMfaAttempt(u.id, at(20_000), window(at(20_000)))));
        expect([...concurrent].sort((a, b) => a - b)).toEqual([3, 4, 5, 6, 7]);
        // The window began at 0 and lasts 60 s: at 61 s a new one starts.
        expect(await s.countMfaAttempt(u.id, at(61_000), window(at(61_000)))).toBe(1);
        expect(await s.countMfaAttempt(u.id, at(62_000), window(at(62_000)))).toBe(2);
        expect(await s.recordMfaUse(u.id, 11, at(63_000))).toBe(true);
        expect(await s.countMfaAttempt(u.id, at(64_000), window(at(64_000)))).toBe(1);
      });

      it('deletes a factor (reset)', async () => {
        const u = await newUser();
        expect(await s.deleteMfaFactor(u.id)).toBe(false);
        await s.savePendingMfaFactor({ userId: u.id, secretCiphertext: 'sealed', now: T0 });
        await s.activateMfaFactor(u.id, 1, T0);
        expect(await s.deleteMfaFactor(u.id)).toBe(true);
        expect(await s.getMfaFactor(u.id)).toBeUndefined();
        expect(await s.savePendingMfaFactor({ userId: u.id, secretCiphertext: 'again', now: T0 })).toBe(true);
      });
    });

    describe('MFA service on this backend', () => {
      const clock = fixedClock(new Date('2025-06-01T12:00:10.000Z'));
      const key = randomBytes(32);
      const service = () => new MfaService({ store: s, masterKey: key, clock, issuer: 'Contoso IT' });
      const codeAt = (secret: string, offsetSeconds = 0) =>
        generate({ secret, epoch: Math.floor(clock.now().getTime() / 1000) + offsetSeconds });

      it('seals the secret: the raw column never holds it, and another key cannot use it', async () => {
        const u = await newUser();
        const e = await service().enroll(u.upn.toUpperCase());
        expect(e.upn).toBe(u.upn);
        expect(e.secret).toMatch(/^[A-Z2-7]{32}$/);
        expect(e.uri).toMatch(/^otpauth:\/\/totp\/Contoso%20IT:/);
        expect(e.uri).toContain(`secret=${e.secret}`);
        const raw = await rawSecrets();
        expect(raw.length).toBeGreaterThan(0);
        for (const text of raw) {
          expect(text).not.toContain(e.secret);
          expect(text.toLowerCase()).not.toContain(e.secret.toLowerCase());
        }
        expect((await s.getMfaFactor(u.id))?.secretCiphertext).toMatch(/^v1\./);
        // The same code under another data folder's key: the ciphertext does not open.
        const other = new MfaService({ store: s, masterKey: randomBytes(32), clock, issuer: 'x' });
        await expect(other.confirm(u.upn, await codeAt(e.secret))).rejects.toThrow();
        expect((await s.getMfaFactor(u.id))?.status).toBe('pending');
      });

      it('confirms with one valid code, refuses a wrong one, resets, and enrolls again', async () => {
        const u = await newUser();
        const mfa = service();
        const e = await mfa.enroll(u.upn);
        await expect(mfa.confirm(u.upn, '000000' === (await codeAt(e.secret)) ? '111111' : '000000')).rejects.toBeInstanceOf(
          InvalidInputError,
        );
        await expect(mfa.confirm(u.upn, 'not a code')).rejects.toBeInstanceOf(InvalidInputError);
        expect(await mfa.statusOf(u.id)).toBe('pending');
        expect(await mfa.confirm(u.upn, await codeAt(e.secret))).toBe(u.upn);
        expect(await mfa.statusOf(u.id)).toBe('active');
        await expect(mfa.enroll(u.upn)).rejects.toBeInstanceOf(ConflictError);
        await expect(mfa.confirm(u.upn, await codeAt(e.secret))).rejects.toBeInstanceOf(ConflictError);
        expect(await mfa.reset(u.upn)).toEqual({ upn: u.upn, removed: true });
        expect(await mfa.reset(u.upn)).toEqual({ upn: u.upn, removed: false });
        await expect(mfa.confirm(u.upn, '123456')).rejects.toBeInstanceOf(NotFoundError);
        await expect(mfa.enroll('nobody@contoso.com')).rejects.toBeInstanceOf(NotFoundError);
        const again = await mfa.enroll(u.upn);
        expect(again.secret).not.toBe(e.secret);
      });

      it('verifies sign-in codes: the confirming code and any reused step are replays; the last used step is stored', async () => {
        const u = await newUser();
        const mfa = service();
        const e = await mfa.enroll(u.upn);
        const code = await codeAt(e.secret);
        await mfa.confirm(u.upn, code);
        expect(await mfa.verifyCode(u.id, code)).toEqual({ ok: false, reason: 'replayed' });
        clock.advance(30_000);
        const next = await codeAt(e.secret);
        expect(await mfa.verifyCode(u.id, next)).toEqual({ ok: true });
        const step = Math.floor(clock.now().getTime() / 30_000);
        expect((await s.getMfaFactor(u.id))?.lastTimeStep).toBe(step);
        expect(await mfa.verifyCode(u.id, next)).toEqual({ ok: false, reason: 'replayed' });
        // One step of drift either way is accepted.
        clock.advance(60_000);
        expect(await mfa.verifyCode(u.id, await codeAt(e.secret, -30))).toEqual({ ok: true });
        expect(await mfa.verifyCode(u.id, await codeAt(e.secret, 30))).toEqual({ ok: true });
        expect(await mfa.verifyCode(u.id, await codeAt(e.secret, 300))).toEqual({ ok: false, reason: 'wrong_code' });
        const none = await newUser();
        expect(await mfa.verifyCode(none.id, '123456')).toEqual({ ok: false, reason: 'not_enrolled' });
      });

      it(`allows ${MFA_ATTEMPT_LIMIT} codes per user per window, then refuses even a right one`, async () => {
        const u = await newUser();
        const mfa = service();
        const e = await mfa.enroll(u.upn);
        await mfa.confirm(u.upn, await codeAt(e.secret));
        clock.advance(30_000);
        const right = await codeAt(e.secret);
        const wrong = right === '999999' ? '000000' : '999999';
        for (let i = 0; i < MFA_ATTEMPT_LIMIT; i++) expect(await mfa.verifyCode(u.id, wrong)).toEqual({ ok: false, reason: 'wrong_code' });
        expect(await mfa.verifyCode(u.id, right)).toEqual({ ok: false, reason: 'rate_limited' });
        clock.advance(MFA_ATTEMPT_WINDOW_MS + 1000);
        expect(await mfa.verifyCode(u.id, await codeAt(e.secret))).toEqual({ ok: true });
      });

      it('keeps the requirement in the tenant settings (off by default) and evaluates groups transitively', async () => {
        const fresh = await target.createDatabase();
        const h = await openStorage(fresh.url);
        try {
          await h.addDomain({ name: 'contoso.com', authPolicy: 'Federated', now: T0 });
          const mfa = new MfaService({ store: h, masterKey: key, clock, issuer: 'x' });
          const [inner, outer, other] = await Promise.all(
            ['u-inner', 'u-outer', 'u-other'].map((n) =>
              h.addUser({ upn: `${n}@contoso.com`, displayName: null, passwordHash: 'h', now: T0 }),
            ),
          );
          expect(await mfa.requirement()).toEqual({ required: 'off', groups: [] });
          expect(await mfa.isRequiredFor(inner as User)).toBe(false);

          const admins = await h.addGroup({ name: 'admins', now: T0 });
          const helpdesk = await h.addGroup({ name: 'helpdesk', now: T0 });
          await h.addGroupToGroup(admins.id, helpdesk.id);
          await h.addGroupMember(helpdesk.id, (inner as User).id);
          await h.addGroupMember(admins.id, (outer as User).id);
          const before = await h.getTenantSettings();
          expect(await mfa.setRequirement('groups', ['admins', 'admins'])).toEqual({
            required: 'groups',
            groups: [{ id: admins.id, name: 'admins' }],
          });
          // Only the mfa part of the tenant settings changed.
          expect(await h.getTenantSettings()).toEqual({ ...before, mfa: { required: 'groups', groupIds: [admins.id] } });
          expect(await mfa.isRequiredFor(inner as User)).toBe(true); // member of helpdesk, nested in admins
          expect(await mfa.isRequiredFor(outer as User)).toBe(true);
          expect(await mfa.isRequiredFor(other as User)).toBe(false);

          await expect(mfa.setRequirement('groups', ['nope'])).rejects.toBeInstanceOf(NotFoundError);
          await expect(mfa.setRequirement('groups')).rejects.toBeInstanceOf(InvalidInputError);
          await expect(mfa.setRequirement('all', ['admins'])).rejects.toBeInstanceOf(InvalidInputError);
          expect((await mfa.requirement()).required).toBe('groups');
          await mfa.setRequirement('all');
          expect(await mfa.isRequiredFor(other as User)).toBe(true);
          await mfa.setRequirement('off');
          expect(await h.getTenantSettings()).toEqual(before);
        } finally {
          await h.close();
          await fresh.drop();
        }
      });
    });
  });
}
