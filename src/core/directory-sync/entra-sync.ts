/**
 * Entra ID directory sync through Microsoft Graph delta queries (`winroll entra sync`, `POST
 * /api/v1/entra/tenants/{id}/sync`). Per connected tenant: the Graph URL, the token URL and the client
 * secret (sealed with SecretBox under the data folder's directory-sync key, bound to the tenant id; never
 * printed or logged). A run reads `users/delta` and `groups/delta` to their ends first (nothing changes if
 * Graph fails mid-way), then applies users, groups, and memberships (`members@delta`, users and nested
 * groups), and stores both `@odata.deltaLink`s so the next run only fetches changes. A failed run keeps the
 * previous delta links, so the next run fetches the same changes again (every step is idempotent).
 *
 * Matching: a Graph user is its identity (source `entra:<tenant>`, external id = object id); a new one
 * whose userPrincipalName is a local user's UPN links to that user (see ports.ts). `@removed` (deleted or
 * out of the app's scope) disables the user and takes it out of the tenant's groups; devices stay.
 */
import type { Clock } from '../../shared/clock.js';
import { ConflictError, InvalidInputError, NotFoundError, WinrollError } from '../../shared/errors.js';
import { type AuditContext, AuditTrail } from '../admin/audit.js';
import { normalizeUpn } from '../directory/names.js';
import type { SecretBox } from '../mfa/secret-box.js';
import type { Storage } from '../ports.js';
import { type EntraSyncConfig, type GraphConnection, type GraphConnector, GraphError, type GraphObject } from './ports.js';
import { NO_PASSWORD } from './scim-service.js';

export const DEFAULT_GRAPH_URL = 'https://graph.microsoft.com/v1.0';
export const defaultTokenUrl = (tenantId: string) => `https://login.microsoftonline.com/${tenantId}/oauth2/v2.0/token`;

const USERS_DELTA = '/users/delta?$select=id,userPrincipalName,displayName,accountEnabled';
const GROUPS_DELTA = '/groups/delta?$select=id,displayName,members';
const MAX_WARNINGS = 50;

export const entraSource = (tenantId: string) => `entra:${tenantId}`;
const secretBinding = (tenantId: string) => `entra graph client secret ${tenantId}`;

export interface SyncCounts {
  usersCreated: number;
  usersLinked: number;
  usersUpdated: number;
  usersRemoved: number;
  groupsCreated: number;
  groupsUpdated: number;
  groupsRemoved: number;
  membersAdded: number;
  membersRemoved: number;
  skipped: number;
}

export interface SyncReport {
  tenantId: string;
  status: 'succeeded' | 'failed';
  /** Full when the run started without delta links (first run, or after the Graph URL changed). */
  mode: 'full' | 'incremental';
  counts: SyncCounts;
  /** Objects skipped and why (a UPN synced from elsewhere, an invalid UPN, an unknown member), at most 50. */
  warnings: string[];
  error: string | null;
  startedAt: Date;
  finishedAt: Date;
}

/** What admins see of a tenant's sync: never the secret. */
export interface SyncStatus {
  tenantId: string;
  graphUrl: string;
  tokenUrl: string;
  customCa: boolean;
  incremental: boolean;
  lastRunAt: Date | null;
  lastStatus: 'succeeded' | 'failed' | null;
  lastError: string | null;
  lastCounts: Record<string, number> | null;
}

function statusOf(c: EntraSyncConfig): SyncStatus {
  return {
    tenantId: c.tenantId,
    graphUrl: c.graphUrl,
    tokenUrl: c.tokenUrl,
    customCa: c.caPem !== null,
    incremental: c.usersDeltaLink !== null && c.groupsDeltaLink !== null,
    lastRunAt: c.lastRunAt,
    lastStatus: c.lastStatus,
    lastError: c.lastError,
    lastCounts: c.lastCounts,
  };
}

function httpsUrl(v: string, what: string): string {
  let u: URL;
  try {
    u = new URL(v.trim());
  } catch {
    throw new InvalidInputError(`the ${what} "${v.slice(0, 200)}" is not a URL`);
  }
  if (u.protocol !== 'https:') throw new InvalidInputError(`the ${what} must be https`);
  if (u.username || u.password) throw new InvalidInputError(`the ${what} must not carry credentials`);
  return u.toString().replace(/\/+$/, '');
}

function checkPem(pem: string): string {
  if (!/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.test(pem))
    throw new InvalidInputError('the CA file holds no PEM certificate');
  if (/PRIVATE KEY/.test(pem)) throw new InvalidInputError('the CA file holds a private key; give the certificate only');
  return pem.trim();
}

export class EntraSync {
  readonly #s: Storage;
  readonly #connect: GraphConnector;
  readonly #box: SecretBox;
  readonly #clock: Clock;
  readonly #audit: AuditTrail;
  readonly #running = new Set<string>();

  constructor(deps: { storage: Storage; connect: GraphConnector; box: SecretBox; clock: Clock }) {
    this.#s = deps.storage;
    this.#connect = deps.connect;
    this.#box = deps.box;
    this.#clock = deps.clock;
    this.#audit = new AuditTrail({ store: deps.storage, clock: deps.clock });
  }

  /**
   * Sets how Winroll reaches the tenant's Graph. The first call needs the client secret; later calls keep
   * the stored one unless given. Changing the Graph URL makes the next run a full one.
   */
  async configure(
    ctx: AuditContext,
    input: {
      tenantId: string;
      graphUrl?: string | undefined;
      tokenUrl?: string | undefined;
      clientSecret?: string | undefined;
      caPem?: string | null | undefined;
    },
  ): Promise<SyncStatus> {
    const tenantId = input.tenantId.trim().toLowerCase();
    const tenant = await this.#s.getEntraTenant(tenantId);
    if (!tenant) throw new NotFoundError(`tenant ${tenantId} is not connected; connect it first with winroll entra connect`);
    const prev = await this.#s.getEntraSyncConfig(tenantId);
    const graphUrl = httpsUrl(input.graphUrl ?? prev?.graphUrl ?? DEFAULT_GRAPH_URL, 'Graph URL');
    const tokenUrl = httpsUrl(input.tokenUrl ?? prev?.tokenUrl ?? defaultTokenUrl(tenantId), 'token URL');
    const secret = input.clientSecret?.trim();
    if (secret !== undefined && (secret.length === 0 || secret.length > 1024))
      throw new InvalidInputError('the client secret must be 1 to 1024 characters');
    if (secret === undefined && !prev) throw new InvalidInputError('syncing a tenant needs its client secret (--client-secret-file)');
    const caPem = input.caPem === undefined ? (prev?.caPem ?? null) : input.caPem === null ? null : checkPem(input.caPem);
    const saved = await this.#audit.record(
      ctx,
      {
        action: 'entra.sync_configure',
        targetType: 'entra_tenant',
        targetId: tenantId,
        before: prev ? { graphUrl: prev.graphUrl, tokenUrl: prev.tokenUrl, customCa: prev.caPem !== null } : null,
      },
      () =>
        this.#s.saveEntraSyncConfig({
          tenantId,
          graphUrl,
          tokenUrl,
          clientSecretSealed: secret === undefined ? undefined : this.#box.seal(secret, secretBinding(tenantId)),
          caPem,
          now: this.#clock.now(),
        }),
      (c) => ({
        graphUrl: c.graphUrl,
        tokenUrl: c.tokenUrl,
        customCa: c.caPem !== null,
        clientSecret: secret === undefined ? 'kept' : 'replaced',
      }),
    );
    return statusOf(saved);
  }

  async status(tenantId?: string): Promise<SyncStatus[]> {
    const all = await this.#s.listEntraSyncConfigs();
    return all.filter((c) => tenantId === undefined || c.tenantId === tenantId.trim().toLowerCase()).map(statusOf);
  }

  /**
   * The tenant's Graph connection with the secret opened, for other Graph writers (compliance write-back).
   * NotFoundError when the tenant does not sync.
   */
  async connection(tenantId: string): Promise<GraphConnection> {
    const id = tenantId.trim().toLowerCase();
    const [tenant, config] = await Promise.all([this.#s.getEntraTenant(id), this.#s.getEntraSyncConfig(id)]);
    if (!tenant || !config)
      throw new NotFoundError(
        `tenant ${id} has no Graph connection; add one with winroll entra connect --graph-url ... --client-secret-file ...`,
      );
    let clientSecret: string;
    try {
      clientSecret = this.#box.open(config.clientSecretSealed, secretBinding(id));
    } catch {
      throw new WinrollError(
        'internal',
        `the stored client secret of tenant ${id} cannot be opened (was the data folder's directory-sync key replaced?); set it again with --client-secret-file`,
      );
    }
    return {
      tenantId: id,
      clientId: tenant.clientId,
      clientSecret,
      graphUrl: config.graphUrl,
      tokenUrl: config.tokenUrl,
      caPem: config.caPem,
    };
  }

  /** Syncs one tenant, or every tenant that has a Graph connection. Throws (after recording) when a run fails. */
  async run(ctx: AuditContext, tenantId?: string): Promise<SyncReport[]> {
    const targets =
      tenantId === undefined ? (await this.#s.listEntraSyncConfigs()).map((c) => c.tenantId) : [tenantId.trim().toLowerCase()];
    if (targets.length === 0)
      throw new NotFoundError('no tenant syncs yet; connect one with winroll entra connect --graph-url ... --client-secret-file ...');
    const reports: SyncReport[] = [];
    for (const t of targets) reports.push(await this.#runOne(ctx, t));
    return reports;
  }

  async #runOne(ctx: AuditContext, tenantId: string): Promise<SyncReport> {
    const conn = await this.connection(tenantId);
    const config = (await this.#s.getEntraSyncConfig(tenantId)) as EntraSyncConfig;
    if (this.#running.has(tenantId)) throw new ConflictError(`a sync of tenant ${tenantId} is already running`);
    this.#running.add(tenantId);
    const startedAt = this.#clock.now();
    const incremental = config.usersDeltaLink !== null && config.groupsDeltaLink !== null;
    const counts: SyncCounts = {
      usersCreated: 0,
      usersLinked: 0,
      usersUpdated: 0,
      usersRemoved: 0,
      groupsCreated: 0,
      groupsUpdated: 0,
      groupsRemoved: 0,
      membersAdded: 0,
      membersRemoved: 0,
      skipped: 0,
    };
    const warnings: string[] = [];
    const warn = (w: string) => {
      counts.skipped++;
      if (warnings.length < MAX_WARNINGS) warnings.push(w);
    };
    try {
      return await this.#audit.record(
        ctx,
        { action: 'entra.sync', targetType: 'entra_tenant', targetId: tenantId, before: { mode: incremental ? 'incremental' : 'full' } },
        async () => {
          const graph = this.#connect(conn);
          try {
            const users = await graph.readDelta(incremental ? (config.usersDeltaLink as string) : USERS_DELTA);
            const groups = await graph.readDelta(incremental ? (config.groupsDeltaLink as string) : GROUPS_DELTA);
            await this.#applyUsers(tenantId, users.objects, counts, warn);
            await this.#applyGroups(tenantId, groups.objects, counts, warn);
            const report: SyncReport = {
              tenantId,
              status: 'succeeded',
              mode: incremental ? 'incremental' : 'full',
              counts,
              warnings,
              error: null,
              startedAt,
              finishedAt: this.#clock.now(),
            };
            await this.#s.recordEntraSyncRun(tenantId, {
              at: report.finishedAt,
              status: 'succeeded',
              error: null,
              counts: { ...counts },
              usersDeltaLink: users.deltaLink,
              groupsDeltaLink: groups.deltaLink,
            });
            return report;
          } catch (err) {
            const message = err instanceof GraphError || err instanceof WinrollError ? err.message : 'internal error during the sync';
            await this.#s
              .recordEntraSyncRun(tenantId, {
                at: this.#clock.now(),
                status: 'failed',
                error: message.slice(0, 1000),
                counts: { ...counts },
              })
              .catch(() => {});
            throw err instanceof GraphError ? new WinrollError('internal', `sync of tenant ${tenantId} failed: ${err.message}`) : err;
          } finally {
            graph.close?.();
          }
        },
        (r) => ({ mode: r.mode, counts: r.counts, warnings: r.warnings.length }),
      );
    } finally {
      this.#running.delete(tenantId);
    }
  }

  async #applyUsers(tenantId: string, objects: GraphObject[], counts: SyncCounts, warn: (w: string) => void): Promise<void> {
    const source = entraSource(tenantId);
    for (const o of objects) {
      const known = await this.#s.findIdentityByExternalId(source, 'user', o.id);
      if (o['@removed'] !== undefined) {
        if (known && (await this.#s.deleteSyncedUser(known.localId, this.#clock.now()))) counts.usersRemoved++;
        continue;
      }
      const rawUpn = typeof o.userPrincipalName === 'string' ? o.userPrincipalName : known?.name;
      if (rawUpn === undefined) {
        warn(`user ${o.id}: no userPrincipalName`);
        continue;
      }
      let upn: string;
      try {
        upn = normalizeUpn(rawUpn).upn;
      } catch {
        warn(`user ${o.id}: "${rawUpn.slice(0, 100)}" is not a user principal name`);
        continue;
      }
      try {
        const r = await this.#s.upsertSyncedUser({
          source,
          externalId: o.id,
          upn,
          displayName: typeof o.displayName === 'string' ? o.displayName.slice(0, 256) : o.displayName === null ? null : undefined,
          enabled: typeof o.accountEnabled === 'boolean' ? o.accountEnabled : undefined,
          newPasswordHash: NO_PASSWORD,
          sameSource: 'replace',
          now: this.#clock.now(),
        });
        if (r.outcome === 'created') counts.usersCreated++;
        else if (r.outcome === 'linked') counts.usersLinked++;
        else counts.usersUpdated++;
      } catch (err) {
        if (err instanceof ConflictError || err instanceof InvalidInputError) warn(`user ${upn}: ${err.message}`);
        else throw err;
      }
    }
  }

  async #applyGroups(tenantId: string, objects: GraphObject[], counts: SyncCounts, warn: (w: string) => void): Promise<void> {
    const source = entraSource(tenantId);
    const memberships: Array<{ groupId: string; members: unknown[] }> = [];
    for (const o of objects) {
      const known = await this.#s.findIdentityByExternalId(source, 'group', o.id);
      if (o['@removed'] !== undefined) {
        if (known && (await this.#s.deleteSyncedGroup(known.localId, this.#clock.now()))) counts.groupsRemoved++;
        continue;
      }
      let groupId = known?.deletedAt === null ? known.localId : undefined;
      const name = typeof o.displayName === 'string' && o.displayName.trim() !== '' ? o.displayName : known?.name;
      if (name !== undefined && (typeof o.displayName === 'string' || !groupId)) {
        try {
          const r = await this.#s.upsertSyncedGroup({
            source,
            externalId: o.id,
            displayName: name,
            sameSource: 'replace',
            now: this.#clock.now(),
          });
          groupId = r.groupId;
          if (r.outcome === 'created') counts.groupsCreated++;
          else if (!known || known.name !== name || known.deletedAt !== null) counts.groupsUpdated++;
        } catch (err) {
          if (err instanceof ConflictError || err instanceof InvalidInputError) {
            warn(`group ${o.id}: ${err.message}`);
            continue;
          }
          throw err;
        }
      }
      if (!groupId) {
        warn(`group ${o.id}: changes for a group never seen with a display name`);
        continue;
      }
      const delta = o['members@delta'];
      if (Array.isArray(delta)) memberships.push({ groupId, members: delta });
    }
    // Members after every group exists: a nested group may come later in the delta than its parent.
    for (const { groupId, members } of memberships) {
      for (const m of members as Array<Record<string, unknown>>) {
        const id = typeof m?.id === 'string' ? m.id : undefined;
        if (!id) continue;
        const type = typeof m['@odata.type'] === 'string' ? (m['@odata.type'] as string).toLowerCase() : '';
        const kind = type.endsWith('.group') ? 'group' : type.endsWith('.user') ? 'user' : undefined;
        const ident =
          (kind !== 'group' ? await this.#s.findIdentityByExternalId(source, 'user', id) : undefined) ??
          (kind !== 'user' ? await this.#s.findIdentityByExternalId(source, 'group', id) : undefined);
        const removed = m['@removed'] !== undefined;
        if (!ident || ident.deletedAt !== null) {
          // Devices, contacts and service principals are members too; they are not synced. A removal of
          // an unknown member is nothing to do.
          if (!removed && (kind === 'user' || kind === 'group')) warn(`member ${id} of group ${groupId}: not synced`);
          continue;
        }
        if (ident.kind === 'user') {
          if (removed) await this.#s.removeGroupMember(groupId, ident.localId);
          else await this.#s.addGroupMember(groupId, ident.localId);
        } else if (removed) await this.#s.removeGroupFromGroup(groupId, ident.localId);
        else {
          try {
            await this.#s.addGroupToGroup(groupId, ident.localId);
          } catch (err) {
            if (err instanceof InvalidInputError) {
              warn(`nesting in group ${groupId}: ${err.message}`);
              continue;
            }
            throw err;
          }
        }
        if (removed) counts.membersRemoved++;
        else counts.membersAdded++;
      }
    }
  }
}
