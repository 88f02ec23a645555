/**
 * The SCIM 2.0 service provider behind `/scim/v2` (RFC 7644): identity providers (Entra provisioning,
 * Okta, Keycloak) push users and groups with a bearer token an admin created (`winroll scim token create`).
 * Everything it creates is a synced identity of source `scim` (ports.ts), so enabled state and group
 * membership drive licenses-by-user, scopes and restrictions like any local user and group.
 *
 * What an IdP may see and change: only users and groups of source `scim`. A POSTed userName equal to a
 * local user's UPN links that user (same id; its password and local memberships untouched) instead of
 * creating a second one; one synced from Entra is a 409. Group members are ids of SCIM users or groups
 * (nested groups count transitively). Every write is audited with the token as actor.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import { ConflictError, InvalidInputError, NotFoundError } from '../../shared/errors.js';
import { type AuditContext, AuditTrail } from '../admin/audit.js';
import { normalizeUpn } from '../directory/names.js';
import type { Storage, User } from '../ports.js';
import type { ScimTokenRecord, SyncedIdentity } from './ports.js';
import {
  type Json,
  type ScimDoc,
  ScimError,
  type ScimMember,
  applyPatch,
  groupResource,
  listResponse,
  parseFilter,
  readGroup,
  readPaging,
  readPatch,
  readUser,
  userResource,
} from './scim.js';

export const SCIM_SOURCE = 'scim';
/** Stored as the password hash of users a sync creates: no password verifies against it. */
export const NO_PASSWORD = 'synced$no-password';
const TOKEN_PREFIX = 'scim_';

export interface ScimPrincipal {
  tokenId: string;
  name: string;
}

export interface ScimListQuery {
  filter?: string | undefined;
  startIndex?: string | undefined;
  count?: string | undefined;
  excludedAttributes?: string | undefined;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64url');

export function scimTokenView(t: ScimTokenRecord) {
  return { id: t.id, name: t.name, createdBy: t.createdBy, createdAt: t.createdAt, lastUsedAt: t.lastUsedAt, revokedAt: t.revokedAt };
}

export class ScimService {
  readonly #s: Storage;
  readonly #clock: Clock;
  readonly #audit: AuditTrail;

  constructor(deps: { storage: Storage; clock: Clock }) {
    this.#s = deps.storage;
    this.#clock = deps.clock;
    this.#audit = new AuditTrail({ store: deps.storage, clock: deps.clock });
  }

  // -- tokens (admins) ---------------------------------------------------------------------------------

  /** A new bearer token, returned once; only its SHA-256 is kept. */
  async createToken(ctx: AuditContext, name: string | undefined): Promise<{ token: string; record: ScimTokenRecord }> {
    const label = (name ?? 'scim').trim();
    if (label === '' || label.length > 64) throw new InvalidInputError('the token name must be 1 to 64 characters');
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
    const id = randomBytes(8).toString('hex');
    const createdBy = ctx.actor.kind === 'cli' ? 'cli' : ctx.actor.upn;
    const record = await this.#audit.record(
      ctx,
      { action: 'scim_token.create', targetType: 'scim_token', targetId: id },
      () => this.#s.addScimToken({ id, name: label, tokenHash: sha256(token), createdBy, now: this.#clock.now() }),
      scimTokenView,
    );
    return { token, record };
  }

  listTokens(): Promise<ScimTokenRecord[]> {
    return this.#s.listScimTokens();
  }

  /** Revokes by id or by name (when exactly one live token has it). */
  async revokeToken(ctx: AuditContext, idOrName: string): Promise<ScimTokenRecord> {
    const all = await this.#s.listScimTokens();
    const byId = all.find((t) => t.id === idOrName);
    const byName = all.filter((t) => t.name === idOrName && t.revokedAt === null);
    if (!byId && byName.length > 1) throw new ConflictError(`${byName.length} tokens are named "${idOrName}"; revoke one by id`);
    const target = byId ?? byName[0];
    if (!target) throw new NotFoundError(`no SCIM token ${idOrName}`);
    return this.#audit.record(
      ctx,
      { action: 'scim_token.revoke', targetType: 'scim_token', targetId: target.id, before: scimTokenView(target) },
      () => this.#s.revokeScimToken(target.id, this.#clock.now()),
      scimTokenView,
    );
  }

  /** The token behind `Authorization: Bearer ...`, or undefined (unknown, malformed, revoked). */
  async authenticate(bearer: string): Promise<ScimPrincipal | undefined> {
    if (!bearer.startsWith(TOKEN_PREFIX) || bearer.length > 200) return undefined;
    const t = await this.#s.getScimTokenByHash(sha256(bearer));
    if (!t || t.revokedAt !== null) return undefined;
    await this.#s.touchScimToken(t.id, this.#clock.now()).catch(() => {});
    return { tokenId: t.id, name: t.name };
  }

  static context(p: ScimPrincipal, traceId: string): AuditContext {
    // SCIM writes are made by a token, not a signed-in admin: the audit log names it `scim:<name>`.
    return { actor: { kind: 'token', tokenId: p.tokenId, name: `scim:${p.name}`, userId: '', upn: 'scim' }, traceId };
  }

  // -- users -------------------------------------------------------------------------------------------

  async createUser(ctx: AuditContext, base: string, body: unknown): Promise<ScimDoc> {
    const input = readUser(body);
    const upn = toUpn(input.userName);
    if (input.externalId !== null) {
      const taken = await this.#s.findIdentityByExternalId(SCIM_SOURCE, 'user', input.externalId);
      if (taken && taken.deletedAt === null)
        throw new ScimError(409, `a user with externalId ${input.externalId} already exists`, 'uniqueness');
    }
    const r = await this.#audit.record(
      ctx,
      { action: 'scim.user.create', targetType: 'user', targetId: upn },
      () =>
        this.#s.upsertSyncedUser({
          source: SCIM_SOURCE,
          externalId: input.externalId,
          upn,
          displayName: input.displayName,
          enabled: input.active,
          attributes: input.attributes,
          newPasswordHash: NO_PASSWORD,
          sameSource: 'conflict',
          now: this.#clock.now(),
        }),
      (x) => ({ outcome: x.outcome, upn, active: input.active, externalId: input.externalId }),
    );
    return this.#userDoc(base, r.userId);
  }

  async getUser(base: string, id: string): Promise<ScimDoc> {
    return this.#userDoc(base, id);
  }

  async listUsers(base: string, q: ScimListQuery): Promise<ScimDoc> {
    const { startIndex, count } = readPaging(q);
    const where: { name?: string; externalId?: string; localId?: string } = {};
    let none = false;
    for (const t of q.filter ? parseFilter(q.filter, ['username', 'externalid', 'id']) : []) {
      const key = t.attr === 'username' ? 'name' : t.attr === 'externalid' ? 'externalId' : 'localId';
      if (typeof t.value !== 'string' || (where[key] !== undefined && where[key] !== t.value)) none = true;
      else where[key] = t.value;
    }
    if (none) return listResponse([], 0, startIndex);
    const page = await this.#s.listIdentities({ source: SCIM_SOURCE, kind: 'user', ...where, offset: startIndex - 1, limit: count });
    const docs: ScimDoc[] = [];
    for (const ident of page.items) {
      const user = await this.#s.getUserById(ident.localId);
      if (user) docs.push(this.#toUserDoc(base, user, ident));
    }
    return listResponse(docs, page.total, startIndex);
  }

  async replaceUser(ctx: AuditContext, base: string, id: string, body: unknown): Promise<ScimDoc> {
    const { user, ident } = await this.#liveUser(id);
    return this.#writeUser(ctx, base, user, ident, readUser(body), 'scim.user.replace');
  }

  async patchUser(ctx: AuditContext, base: string, id: string, body: unknown): Promise<ScimDoc> {
    const ops = readPatch(body);
    const { user, ident } = await this.#liveUser(id);
    const current = this.#toUserDoc(base, user, ident);
    const patched = applyPatch(current, ops);
    return this.#writeUser(ctx, base, user, ident, readUser(patched), 'scim.user.patch');
  }

  async deleteUser(ctx: AuditContext, id: string): Promise<void> {
    const { user } = await this.#liveUser(id);
    await this.#audit.record(
      ctx,
      { action: 'scim.user.delete', targetType: 'user', targetId: user.upn, before: { enabled: user.enabled } },
      () => this.#s.deleteSyncedUser(user.id, this.#clock.now()),
      () => ({ enabled: false, deleted: true }),
    );
  }

  async #writeUser(
    ctx: AuditContext,
    base: string,
    user: User,
    ident: SyncedIdentity,
    input: ReturnType<typeof readUser>,
    action: string,
  ): Promise<ScimDoc> {
    const upn = toUpn(input.userName);
    const before = { upn: user.upn, displayName: user.displayName, enabled: user.enabled, externalId: ident.externalId };
    const after = { upn, displayName: input.displayName, enabled: input.active, externalId: input.externalId };
    await this.#audit.record(
      ctx,
      { action, targetType: 'user', targetId: user.upn, before },
      () =>
        this.#s.updateSyncedUser(
          user.id,
          {
            upn,
            displayName: input.displayName,
            enabled: input.active,
            externalId: input.externalId,
            attributes: input.attributes,
          },
          this.#clock.now(),
        ),
      () => after,
    );
    return this.#userDoc(base, user.id);
  }

  async #liveUser(id: string): Promise<{ user: User; ident: SyncedIdentity }> {
    const ident = await this.#s.getIdentity('user', id);
    const user = ident && ident.source === SCIM_SOURCE && ident.deletedAt === null ? await this.#s.getUserById(id) : undefined;
    if (!ident || !user) throw new ScimError(404, `no user ${id.slice(0, 64)}`);
    return { user, ident };
  }

  async #userDoc(base: string, id: string): Promise<ScimDoc> {
    const { user, ident } = await this.#liveUser(id);
    return this.#toUserDoc(base, user, ident);
  }

  #toUserDoc(base: string, user: User, ident: SyncedIdentity): ScimDoc {
    return userResource({
      id: user.id,
      userName: ident.name,
      displayName: user.displayName,
      active: user.enabled,
      externalId: ident.externalId,
      attributes: ident.attributes as ScimDoc,
      meta: {
        resourceType: 'User',
        created: ident.createdAt,
        lastModified: new Date(Math.max(ident.updatedAt.getTime(), user.updatedAt.getTime())),
        location: `${base}/Users/${user.id}`,
      },
    });
  }

  // -- groups ------------------------------------------------------------------------------------------

  async createGroup(ctx: AuditContext, base: string, body: unknown): Promise<ScimDoc> {
    const input = readGroup(body);
    if (input.externalId !== null) {
      const taken = await this.#s.findIdentityByExternalId(SCIM_SOURCE, 'group', input.externalId);
      if (taken && taken.deletedAt === null)
        throw new ScimError(409, `a group with externalId ${input.externalId} already exists`, 'uniqueness');
    }
    const members = input.members === undefined ? undefined : await this.#resolveMembers(input.members);
    const r = await this.#audit.record(
      ctx,
      { action: 'scim.group.create', targetType: 'group', targetId: input.displayName },
      async () => {
        const g = await this.#s.upsertSyncedGroup({
          source: SCIM_SOURCE,
          externalId: input.externalId,
          displayName: input.displayName,
          attributes: input.attributes,
          sameSource: 'conflict',
          now: this.#clock.now(),
        });
        if (members) await this.#setMembers(g.groupId, members);
        return g;
      },
      (g) => ({ outcome: g.outcome, displayName: input.displayName, members: members?.length ?? 0 }),
    );
    return this.#groupDoc(base, r.groupId, true);
  }

  async getGroup(base: string, id: string, q: { excludedAttributes?: string | undefined }): Promise<ScimDoc> {
    return this.#groupDoc(base, id, !excludesMembers(q.excludedAttributes));
  }

  async listGroups(base: string, q: ScimListQuery): Promise<ScimDoc> {
    const { startIndex, count } = readPaging(q);
    const where: { name?: string; externalId?: string; localId?: string } = {};
    let memberFilter: string | undefined;
    let none = false;
    for (const t of q.filter ? parseFilter(q.filter, ['displayname', 'externalid', 'id', 'members.value', 'members']) : []) {
      if (typeof t.value !== 'string') none = true;
      else if (t.attr.startsWith('members')) memberFilter = t.value;
      else {
        const key = t.attr === 'displayname' ? 'name' : t.attr === 'externalid' ? 'externalId' : 'localId';
        if (where[key] !== undefined && where[key] !== t.value) none = true;
        else where[key] = t.value;
      }
    }
    if (none) return listResponse([], 0, startIndex);
    const withMembers = !excludesMembers(q.excludedAttributes);
    if (memberFilter !== undefined) {
      // Membership checks (Entra asks `id eq "g" and members[value eq "u"]`) filter in memory.
      const all = await this.#s.listIdentities({ source: SCIM_SOURCE, kind: 'group', ...where, offset: 0, limit: 10_000 });
      const hits: SyncedIdentity[] = [];
      for (const g of all.items) if ((await this.#directMemberIds(g.localId)).includes(memberFilter)) hits.push(g);
      const docs = [];
      for (const g of hits.slice(startIndex - 1, startIndex - 1 + count)) docs.push(await this.#groupDoc(base, g.localId, withMembers));
      return listResponse(docs, hits.length, startIndex);
    }
    const page = await this.#s.listIdentities({ source: SCIM_SOURCE, kind: 'group', ...where, offset: startIndex - 1, limit: count });
    const docs = [];
    for (const g of page.items) docs.push(await this.#groupDoc(base, g.localId, withMembers));
    return listResponse(docs, page.total, startIndex);
  }

  async replaceGroup(ctx: AuditContext, base: string, id: string, body: unknown): Promise<ScimDoc> {
    const ident = await this.#liveGroup(id);
    return this.#writeGroup(ctx, base, ident, readGroup(body), 'scim.group.replace');
  }

  async patchGroup(ctx: AuditContext, base: string, id: string, body: unknown): Promise<ScimDoc | undefined> {
    const ops = readPatch(body);
    const ident = await this.#liveGroup(id);
    const current = await this.#groupDoc(base, id, true);
    const patched = applyPatch(current, ops);
    const input = readGroup(patched);
    await this.#writeGroup(ctx, base, ident, { ...input, members: input.members ?? [] }, 'scim.group.patch');
    return this.#groupDoc(base, id, true);
  }

  async deleteGroup(ctx: AuditContext, id: string): Promise<void> {
    const ident = await this.#liveGroup(id);
    await this.#audit.record(
      ctx,
      { action: 'scim.group.delete', targetType: 'group', targetId: ident.name },
      () => this.#s.deleteSyncedGroup(id, this.#clock.now()),
      () => ({ deleted: true }),
    );
  }

  async #writeGroup(
    ctx: AuditContext,
    base: string,
    ident: SyncedIdentity,
    input: ReturnType<typeof readGroup>,
    action: string,
  ): Promise<ScimDoc> {
    const members = input.members === undefined ? undefined : await this.#resolveMembers(input.members);
    const beforeMembers = await this.#directMemberIds(ident.localId);
    await this.#audit.record(
      ctx,
      { action, targetType: 'group', targetId: ident.name, before: { displayName: ident.name, members: beforeMembers.length } },
      async () => {
        await this.#s.updateSyncedGroup(
          ident.localId,
          { displayName: input.displayName, externalId: input.externalId, attributes: input.attributes },
          this.#clock.now(),
        );
        return members ? this.#setMembers(ident.localId, members) : { added: 0, removed: 0 };
      },
      (r) => ({ displayName: input.displayName, ...r }),
    );
    return this.#groupDoc(base, ident.localId, true);
  }

  /** Each member id as a user or group of source scim; unknown ids are a 400 naming the first. */
  async #resolveMembers(members: ScimMember[]): Promise<Array<{ id: string; kind: 'user' | 'group' }>> {
    const ids = [...new Set(members.map((m) => m.value))];
    const [users, groups] = await Promise.all([this.#s.identitiesOf('user', ids), this.#s.identitiesOf('group', ids)]);
    const live = (i: SyncedIdentity) => i.source === SCIM_SOURCE && i.deletedAt === null;
    const kinds = new Map<string, 'user' | 'group'>();
    for (const u of users) if (live(u)) kinds.set(u.localId, 'user');
    for (const g of groups) if (live(g)) kinds.set(g.localId, 'group');
    const out: Array<{ id: string; kind: 'user' | 'group' }> = [];
    for (const id of ids) {
      const kind = kinds.get(id);
      if (!kind) throw new ScimError(400, `member ${id.slice(0, 64)} is not a user or group provisioned over SCIM`, 'invalidValue');
      out.push({ id, kind });
    }
    return out;
  }

  async #setMembers(groupId: string, wanted: Array<{ id: string; kind: 'user' | 'group' }>): Promise<{ added: number; removed: number }> {
    const [users, children] = await Promise.all([this.#s.listGroupMembers(groupId), this.#s.listChildGroups(groupId)]);
    const haveUsers = new Set(users);
    const haveGroups = new Set(children.map((g) => g.id));
    const wantUsers = new Set(wanted.filter((m) => m.kind === 'user').map((m) => m.id));
    const wantGroups = new Set(wanted.filter((m) => m.kind === 'group').map((m) => m.id));
    let added = 0;
    let removed = 0;
    for (const id of wantGroups) {
      if (haveGroups.has(id)) continue;
      if (id === groupId) throw new ScimError(400, 'a group cannot be a member of itself', 'invalidValue');
      try {
        await this.#s.addGroupToGroup(groupId, id);
      } catch (err) {
        if (err instanceof InvalidInputError) throw new ScimError(400, err.message, 'invalidValue');
        throw err;
      }
      added++;
    }
    for (const id of wantUsers) {
      if (!haveUsers.has(id)) {
        await this.#s.addGroupMember(groupId, id);
        added++;
      }
    }
    for (const id of haveUsers) {
      if (!wantUsers.has(id)) {
        await this.#s.removeGroupMember(groupId, id);
        removed++;
      }
    }
    for (const id of haveGroups) {
      if (!wantGroups.has(id)) {
        await this.#s.removeGroupFromGroup(groupId, id);
        removed++;
      }
    }
    return { added, removed };
  }

  async #directMemberIds(groupId: string): Promise<string[]> {
    const [users, children] = await Promise.all([this.#s.listGroupMembers(groupId), this.#s.listChildGroups(groupId)]);
    return [...users, ...children.map((g) => g.id)];
  }

  async #liveGroup(id: string): Promise<SyncedIdentity> {
    const ident = await this.#s.getIdentity('group', id);
    if (!ident || ident.source !== SCIM_SOURCE || ident.deletedAt !== null) throw new ScimError(404, `no group ${id.slice(0, 64)}`);
    return ident;
  }

  async #groupDoc(base: string, id: string, withMembers: boolean): Promise<ScimDoc> {
    const ident = await this.#liveGroup(id);
    let members: Parameters<typeof groupResource>[0]['members'];
    if (withMembers) {
      const [users, children] = await Promise.all([this.#s.listGroupMembers(id), this.#s.listChildGroups(id)]);
      const names = new Map((await this.#s.identitiesOf('user', users)).map((i) => [i.localId, i.name]));
      members = [
        ...users.map((u) => ({ value: u, type: 'User' as const, display: names.get(u) ?? null, ref: `${base}/Users/${u}` })),
        ...children.map((g) => ({ value: g.id, type: 'Group' as const, display: g.name, ref: `${base}/Groups/${g.id}` })),
      ];
    }
    return groupResource({
      id,
      displayName: ident.name,
      externalId: ident.externalId,
      members,
      attributes: ident.attributes as { [k: string]: Json },
      meta: { resourceType: 'Group', created: ident.createdAt, lastModified: ident.updatedAt, location: `${base}/Groups/${id}` },
    });
  }
}

function excludesMembers(excluded: string | undefined): boolean {
  return (excluded ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .includes('members');
}

function toUpn(userName: string): string {
  try {
    return normalizeUpn(userName).upn;
  } catch (err) {
    throw new ScimError(400, err instanceof Error ? err.message : 'userName is not a user principal name', 'invalidValue');
  }
}
