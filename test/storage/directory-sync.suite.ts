/**
 * Conformance suite of the directory-sync storage port (core/directory-sync/ports.ts), run by
 * sqlite.test.ts and postgres.test.ts: synced identities next to ordinary users and groups (create, link a
 * local user by UPN without touching its password, revive, conflicts between sources, renames, unique
 * group names), deletion (user disabled and out of its source's groups; group emptied and unnested),
 * SCIM tokens, and the per-tenant Graph connection with its delta links.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Storage } from '../../src/core/ports.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../../src/shared/errors.js';
import { openStorage } from '../../src/storage/sql/sql-storage.js';
import type { StorageTestTarget } from './storage.suite.js';

const T0 = new Date('2025-06-01T10:00:00.000Z');
const at = (ms: number): Date => new Date(T0.getTime() + ms);
const uid = (): string => randomBytes(4).toString('hex');
const NO_PW = 'synced$no-password';

async function rejection(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => undefined,
    (e: unknown) => e,
  );
}

export function directorySyncConformanceSuite(target: StorageTestTarget): void {
  describe(`directory sync storage conformance (${target.kind})`, () => {
    let database: { url: string; drop(): Promise<void> };
    let s: Storage;
    const tenant = '5b6f1c1e-0d1a-4d53-9a5e-2f1f1c0de001';
    const entra = `entra:${tenant}`;

    beforeAll(async () => {
      database = await target.createDatabase();
      s = await openStorage(database.url);
    });
    afterAll(async () => {
      await s?.close();
      await database?.drop();
    });

    const user = (
      source: string,
      externalId: string | null,
      upn: string,
      extra: Partial<Parameters<Storage['upsertSyncedUser']>[0]> = {},
    ) =>
      s.upsertSyncedUser({
        source,
        externalId,
        upn,
        displayName: null,
        enabled: true,
        newPasswordHash: NO_PW,
        sameSource: 'replace',
        now: T0,
        ...extra,
      });

    it('creates a synced user with an unusable password, then updates it by external id (rename included)', async () => {
      const ext = uid();
      const upn = `new-${ext}@contoso.com`;
      const r = await user(entra, ext, upn, { displayName: 'New', attributes: { a: 1 } });
      expect(r.outcome).toBe('created');
      expect(await s.getUserById(r.userId)).toMatchObject({ upn, displayName: 'New', enabled: true, passwordHash: NO_PW });
      expect(r.identity).toMatchObject({
        kind: 'user',
        localId: r.userId,
        source: entra,
        externalId: ext,
        name: upn,
        linkedLocal: false,
        deletedAt: null,
      });
      const renamed = await user(entra, ext, `renamed-${ext}@contoso.com`, { displayName: undefined, enabled: false, now: at(1000) });
      expect(renamed).toMatchObject({ userId: r.userId, outcome: 'updated' });
      expect(await s.getUserById(r.userId)).toMatchObject({ upn: `renamed-${ext}@contoso.com`, displayName: 'New', enabled: false });
      expect((await s.getIdentity('user', r.userId))?.attributes).toEqual({ a: 1 });
      expect(await s.findIdentityByExternalId(entra, 'user', ext)).toMatchObject({ localId: r.userId, name: `renamed-${ext}@contoso.com` });
    });

    it('links a local user by UPN: same id, password kept; a second source is a conflict', async () => {
      const upn = `local-${uid()}@contoso.com`;
      const local = await s.addUser({ upn, displayName: 'Local', passwordHash: 'scrypt$local-hash', now: T0 });
      const r = await user('scim', null, upn.toUpperCase(), { displayName: 'From IdP' });
      expect(r).toMatchObject({ userId: local.id, outcome: 'linked' });
      expect(r.identity.linkedLocal).toBe(true);
      expect(await s.getUserById(local.id)).toMatchObject({ passwordHash: 'scrypt$local-hash', displayName: 'From IdP' });
      expect(await rejection(user(entra, uid(), upn))).toBeInstanceOf(ConflictError);
      expect(await rejection(user('scim', null, upn, { sameSource: 'conflict' }))).toBeInstanceOf(ConflictError);
      expect((await s.listUsers()).filter((u) => u.upn === upn)).toHaveLength(1);
    });

    it('refuses renaming a synced user onto another user; nothing changes', async () => {
      const a = await user('scim', null, `a-${uid()}@contoso.com`);
      const other = await s.addUser({ upn: `taken-${uid()}@contoso.com`, displayName: null, passwordHash: 'x', now: T0 });
      expect(await rejection(s.updateSyncedUser(a.userId, { upn: other.upn, enabled: false }, at(1)))).toBeInstanceOf(ConflictError);
      expect((await s.getUserById(a.userId))?.enabled).toBe(true);
      expect(await rejection(s.updateSyncedUser(other.id, { enabled: false }, at(1)))).toBeInstanceOf(NotFoundError);
    });

    it('deleting a user disables it and takes it out of its source groups only; re-creating revives it', async () => {
      const ext = uid();
      const u = await user(entra, ext, `del-${ext}@contoso.com`);
      const synced = await s.upsertSyncedGroup({
        source: entra,
        externalId: uid(),
        displayName: `Synced ${ext}`,
        sameSource: 'replace',
        now: T0,
      });
      const local = await s.addGroup({ name: `Local ${ext}`, now: T0 });
      await s.addGroupMember(synced.groupId, u.userId);
      await s.addGroupMember(local.id, u.userId);
      expect(await s.deleteSyncedUser(u.userId, at(5))).toBe(true);
      expect(await s.deleteSyncedUser(u.userId, at(6))).toBe(false);
      expect((await s.getUserById(u.userId))?.enabled).toBe(false);
      expect(await s.groupsOfUser(u.userId)).toEqual([local.id]);
      expect((await s.getIdentity('user', u.userId))?.deletedAt).toEqual(at(5));
      expect((await s.listIdentities({ source: entra, kind: 'user', externalId: ext, offset: 0, limit: 10 })).total).toBe(0);
      const back = await user(entra, ext, `del-${ext}@contoso.com`, { now: at(10) });
      expect(back).toMatchObject({ userId: u.userId, outcome: 'revived' });
      expect((await s.getUserById(u.userId))?.enabled).toBe(true);
    });

    it('groups get unique names (suffixed with their source), rename, and are emptied and unnested on delete', async () => {
      const name = `Sales ${uid()}`;
      const local = await s.addGroup({ name, now: T0 });
      const g = await s.upsertSyncedGroup({ source: entra, externalId: uid(), displayName: name, sameSource: 'replace', now: T0 });
      expect(g.outcome).toBe('created');
      const groups = await s.listGroups();
      expect(groups.find((x) => x.id === g.groupId)?.name).toBe(`${name} (Entra)`);
      expect(g.identity.name).toBe(name);
      const child = await s.upsertSyncedGroup({
        source: 'scim',
        externalId: null,
        displayName: `Child ${uid()}`,
        sameSource: 'conflict',
        now: T0,
      });
      await s.addGroupToGroup(g.groupId, child.groupId);
      await s.addGroupToGroup(local.id, g.groupId);
      const member = await user('scim', null, `m-${uid()}@contoso.com`);
      await s.addGroupMember(g.groupId, member.userId);
      const renamed = await s.updateSyncedGroup(g.groupId, { displayName: `${name} EMEA` }, at(1));
      expect(renamed.name).toBe(`${name} EMEA`);
      expect((await s.getGroupByName(`${name} EMEA`))?.id).toBe(g.groupId);
      expect(
        await rejection(
          s.upsertSyncedGroup({
            source: 'scim',
            externalId: null,
            displayName: child.identity.name.toUpperCase(),
            sameSource: 'conflict',
            now: T0,
          }),
        ),
      ).toBeInstanceOf(ConflictError);
      expect(await s.deleteSyncedGroup(g.groupId, at(2))).toBe(true);
      expect(await s.listGroupMembers(g.groupId)).toEqual([]);
      expect(await s.listChildGroups(g.groupId)).toEqual([]);
      expect(await s.listChildGroups(local.id)).toEqual([]);
      expect(
        await rejection(s.upsertSyncedGroup({ source: 'scim', externalId: null, displayName: '  ', sameSource: 'replace', now: T0 })),
      ).toBeInstanceOf(InvalidInputError);
    });

    it('lists live identities of a source with filters, paging and a total', async () => {
      const src = `scim-list-${uid()}`;
      const made = [];
      for (let i = 0; i < 5; i++) made.push(await user(src, `e${i}`, `list${i}-${src}@contoso.com`, { now: at(i) }));
      const page = await s.listIdentities({ source: src, kind: 'user', offset: 1, limit: 2 });
      expect(page.total).toBe(5);
      expect(page.items.map((i) => i.localId)).toEqual([made[1]?.userId, made[2]?.userId]);
      expect(
        (await s.listIdentities({ source: src, kind: 'user', name: `LIST3-${src}@contoso.com`, offset: 0, limit: 10 })).items.map(
          (i) => i.externalId,
        ),
      ).toEqual(['e3']);
      expect((await s.listIdentities({ source: src, kind: 'user', externalId: 'e4', offset: 0, limit: 10 })).total).toBe(1);
      expect((await s.identitiesOf('user', [made[0]?.userId as string, 'nope'])).map((i) => i.externalId)).toEqual(['e0']);
    });

    it('keeps SCIM tokens by hash; revoke is idempotent; use is recorded', async () => {
      const id = uid();
      const hash = randomBytes(32).toString('base64url');
      await s.addScimToken({ id, name: 'okta', tokenHash: hash, createdBy: 'cli', now: T0 });
      expect(await s.getScimTokenByHash(hash)).toMatchObject({ id, name: 'okta', revokedAt: null, lastUsedAt: null });
      await s.touchScimToken(id, at(1000));
      expect((await s.getScimTokenByHash(hash))?.lastUsedAt).toEqual(at(1000));
      expect((await s.revokeScimToken(id, at(2000))).revokedAt).toEqual(at(2000));
      expect((await s.revokeScimToken(id, at(3000))).revokedAt).toEqual(at(2000));
      expect(await rejection(s.revokeScimToken('missing', T0))).toBeInstanceOf(NotFoundError);
    });

    it('stores the Graph connection per tenant, keeps delta links across runs, forgets them when the Graph URL moves', async () => {
      const base = {
        tenantId: tenant,
        graphUrl: 'https://graph.example/v1.0',
        tokenUrl: 'https://login.example/t/token',
        caPem: null,
        now: T0,
      };
      expect(await rejection(s.saveEntraSyncConfig({ ...base, clientSecretSealed: 'v1.x' }))).toBeInstanceOf(NotFoundError);
      await s.saveEntraTenant({
        tenantId: tenant,
        clientId: '0a1b2c3d-0000-4000-8000-00000000c0de',
        issuers: [],
        jwksJson: null,
        jwksUrl: 'https://k.example/keys',
        now: T0,
      });
      expect(await rejection(s.saveEntraSyncConfig(base))).toBeInstanceOf(InvalidInputError);
      await s.saveEntraSyncConfig({ ...base, clientSecretSealed: 'v1.sealed' });
      await s.recordEntraSyncRun(tenant, {
        at: at(1),
        status: 'succeeded',
        error: null,
        counts: { usersCreated: 2 },
        usersDeltaLink: 'u1',
        groupsDeltaLink: 'g1',
      });
      await s.recordEntraSyncRun(tenant, { at: at(2), status: 'failed', error: 'token refused', counts: {} });
      expect(await s.getEntraSyncConfig(tenant)).toMatchObject({
        clientSecretSealed: 'v1.sealed',
        usersDeltaLink: 'u1',
        groupsDeltaLink: 'g1',
        lastStatus: 'failed',
        lastError: 'token refused',
        lastRunAt: at(2),
      });
      await s.saveEntraSyncConfig({ ...base, now: at(3) });
      expect((await s.getEntraSyncConfig(tenant))?.usersDeltaLink).toBe('u1');
      await s.saveEntraSyncConfig({ ...base, graphUrl: 'https://graph.other/v1.0', now: at(4) });
      expect(await s.getEntraSyncConfig(tenant)).toMatchObject({
        usersDeltaLink: null,
        groupsDeltaLink: null,
        clientSecretSealed: 'v1.sealed',
      });
      expect(await s.deleteEntraTenant(tenant)).toBe(true);
      expect(await s.getEntraSyncConfig(tenant)).toBeUndefined();
    });
  });
}
