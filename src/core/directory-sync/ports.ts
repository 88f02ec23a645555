/**
 * Directory sync (issue 5 item 7): users and groups pushed by an identity provider over SCIM 2.0 or pulled
 * from Entra ID through Microsoft Graph delta queries live in the ordinary `users` and `groups` tables, so
 * licenses, scopes, restrictions, MFA groups and profile assignments treat them exactly like local ones.
 * What makes them synced is a *synced identity*: one row per user or group naming its source and the
 * source's id for it. Same conventions as ../ports.ts (UPNs lower-case, Date objects, one transaction per
 * method, ConflictError / NotFoundError from shared/errors.ts).
 *
 * Rules every adapter keeps:
 * - A user or group has at most one identity, so it is synced from one source only. Objects without one
 *   are local (source `local`).
 * - Sources are `scim` or `entra:<tenant id>`. `(source, kind, externalId)` is unique when externalId is set.
 * - A synced user whose UPN matches an existing user without an identity *links* to that user
 *   (`linkedLocal`): same id, devices, licenses and local group memberships; its password is never
 *   touched. Users the sync creates get an unusable password (they sign in through their directory).
 * - Deleting a synced object keeps its row (devices and scopes refer to it) and marks the identity deleted:
 *   a user is disabled and leaves the groups of its source; a group loses its members and nesting links.
 */

export type IdentityKind = 'user' | 'group';

/** `scim` or `entra:<tenant id>`; `local` is what objects without an identity report. */
export type SyncSource = string;

export interface SyncedIdentity {
  kind: IdentityKind;
  /** The user's or group's id in Winroll (also the SCIM `id`). */
  localId: string;
  source: SyncSource;
  /** The source's id for the object (SCIM externalId, Graph object id); may be null for SCIM. */
  externalId: string | null;
  /** What the source calls it, as sent: userName / UPN for users, displayName for groups. */
  name: string;
  /** The user existed in Winroll before the source linked it (its password stays usable). */
  linkedLocal: boolean;
  /** Attributes kept only to hand back to the source (SCIM name, emails, ...), as JSON. */
  attributes: Record<string, unknown>;
  deletedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface SyncedUserInput {
  source: SyncSource;
  externalId: string | null;
  /** Lower-case, validated by the caller. */
  upn: string;
  /** Undefined keeps the current value (Graph deltas carry changed properties only). */
  displayName?: string | null | undefined;
  enabled?: boolean | undefined;
  attributes?: Record<string, unknown> | undefined;
  /** Stored for users the sync creates (an unusable hash). */
  newPasswordHash: string;
  /**
   * What to do when the UPN already belongs to a live identity of the same source with another external
   * id: `conflict` (SCIM POST: 409 uniqueness) or `replace` (Graph: the directory re-created the user).
   */
  sameSource: 'conflict' | 'replace';
  now: Date;
}

export type SyncOutcome = 'created' | 'linked' | 'updated' | 'revived';

export interface SyncedGroupInput {
  source: SyncSource;
  externalId: string | null;
  displayName: string;
  attributes?: Record<string, unknown> | undefined;
  sameSource: 'conflict' | 'replace';
  now: Date;
}

export interface IdentityQuery {
  source: SyncSource;
  kind: IdentityKind;
  /** Exact matches, case-insensitive for name (userName / displayName), exact for externalId and localId. */
  name?: string | undefined;
  externalId?: string | undefined;
  localId?: string | undefined;
  /** 0-based. */
  offset: number;
  limit: number;
}

export interface ScimTokenRecord {
  id: string;
  name: string;
  /** SHA-256 (base64url) of the bearer value; the value itself is never stored. */
  tokenHash: string;
  createdBy: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

/** How Winroll reaches a tenant's Microsoft Graph (one row per connected tenant that syncs). */
export interface EntraSyncConfig {
  tenantId: string;
  /** e.g. https://graph.microsoft.com/v1.0 */
  graphUrl: string;
  /** e.g. https://login.microsoftonline.com/<tid>/oauth2/v2.0/token */
  tokenUrl: string;
  /** The client secret sealed with the data folder's directory-sync key (SecretBox), bound to the tenant. */
  clientSecretSealed: string;
  /** Extra trusted TLS roots (PEM) for the Graph and token endpoints; null = the system's. */
  caPem: string | null;
  usersDeltaLink: string | null;
  groupsDeltaLink: string | null;
  lastRunAt: Date | null;
  lastStatus: 'succeeded' | 'failed' | null;
  lastError: string | null;
  lastCounts: Record<string, number> | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface DirectorySyncStore {
  /**
   * Creates, links, revives or updates the synced user (see the file rules), in one transaction. Lookup
   * order: the identity of (source, externalId); else the user with that UPN. Throws ConflictError when the
   * UPN belongs to a user synced from another source (or, with `sameSource: 'conflict'`, to a live identity
   * of this source), or when an update would give the user a UPN another user holds.
   */
  upsertSyncedUser(input: SyncedUserInput): Promise<{ userId: string; identity: SyncedIdentity; outcome: SyncOutcome }>;
  /** Changes a synced user's UPN, display name, enabled flag, external id or attributes. ConflictError on a taken UPN/external id. */
  updateSyncedUser(
    userId: string,
    changes: {
      upn?: string | undefined;
      displayName?: string | null | undefined;
      enabled?: boolean | undefined;
      externalId?: string | null | undefined;
      attributes?: Record<string, unknown> | undefined;
    },
    now: Date,
  ): Promise<SyncedIdentity>;
  /** Marks the user's identity deleted, disables the user, removes it from its source's groups. False when not a live synced user. */
  deleteSyncedUser(userId: string, now: Date): Promise<boolean>;
  /** Creates (a unique group name is chosen: the display name, else suffixed with the source), revives or updates a synced group. */
  upsertSyncedGroup(input: SyncedGroupInput): Promise<{ groupId: string; identity: SyncedIdentity; outcome: SyncOutcome }>;
  /** Renames (keeping group names unique), changes external id or attributes. */
  updateSyncedGroup(
    groupId: string,
    changes: { displayName?: string | undefined; externalId?: string | null | undefined; attributes?: Record<string, unknown> | undefined },
    now: Date,
  ): Promise<SyncedIdentity>;
  /** Marks the group's identity deleted and removes its members and nesting links (both ways). False when not live. */
  deleteSyncedGroup(groupId: string, now: Date): Promise<boolean>;
  /** The identity of a user or group (deleted ones included); undefined for local objects. */
  getIdentity(kind: IdentityKind, localId: string): Promise<SyncedIdentity | undefined>;
  findIdentityByExternalId(source: SyncSource, kind: IdentityKind, externalId: string): Promise<SyncedIdentity | undefined>;
  /** Live identities matching the query, by creation then id, with the total count. */
  listIdentities(query: IdentityQuery): Promise<{ total: number; items: SyncedIdentity[] }>;
  /** Identities of the given local ids (live and deleted), in no particular order. */
  identitiesOf(kind: IdentityKind, localIds: string[]): Promise<SyncedIdentity[]>;

  addScimToken(input: { id: string; name: string; tokenHash: string; createdBy: string; now: Date }): Promise<ScimTokenRecord>;
  getScimTokenByHash(tokenHash: string): Promise<ScimTokenRecord | undefined>;
  listScimTokens(): Promise<ScimTokenRecord[]>;
  /** Idempotent (keeps the first revokedAt). NotFoundError for an unknown id. */
  revokeScimToken(id: string, now: Date): Promise<ScimTokenRecord>;
  /** Records use, at most once a minute per token. */
  touchScimToken(id: string, now: Date): Promise<void>;

  /**
   * Inserts or updates how a connected tenant syncs. `clientSecretSealed` undefined keeps the stored one.
   * A changed Graph URL forgets the delta links (they belong to the old endpoint). NotFoundError when the
   * tenant is not connected; deleted with the tenant's connection.
   */
  saveEntraSyncConfig(input: {
    tenantId: string;
    graphUrl: string;
    tokenUrl: string;
    clientSecretSealed?: string | undefined;
    caPem: string | null;
    now: Date;
  }): Promise<EntraSyncConfig>;
  getEntraSyncConfig(tenantId: string): Promise<EntraSyncConfig | undefined>;
  listEntraSyncConfigs(): Promise<EntraSyncConfig[]>;
  /** Records a run's outcome; delta links are replaced only when given (a failed run keeps the previous ones). */
  recordEntraSyncRun(
    tenantId: string,
    run: {
      at: Date;
      status: 'succeeded' | 'failed';
      error: string | null;
      counts: Record<string, number>;
      usersDeltaLink?: string | undefined;
      groupsDeltaLink?: string | undefined;
    },
  ): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Microsoft Graph, as the sync sees it (adapter: src/graph)
// ---------------------------------------------------------------------------------------------------

/** One object of a users/delta or groups/delta answer, as Graph sends it. */
export type GraphObject = Record<string, unknown> & { id: string };

export interface GraphDirectory {
  /**
   * Reads a delta query to its end: GETs `start` (a path below the Graph URL, or a stored deltaLink) and
   * follows `@odata.nextLink` pages; returns every object in order and the final `@odata.deltaLink`.
   */
  readDelta(start: string): Promise<{ objects: GraphObject[]; deltaLink: string }>;
  /** Releases connections. */
  close?(): void;
}

export interface GraphConnection {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  graphUrl: string;
  tokenUrl: string;
  caPem: string | null;
}

/** Builds a Graph client for one tenant (the composition root injects src/graph's). */
export type GraphConnector = (connection: GraphConnection) => GraphDirectory;

/**
 * Graph or its token endpoint refused or failed (after retries). The message is safe to show and log: it
 * names the endpoint and Graph's error code, never a secret or a token.
 */
export class GraphError extends Error {
  /** HTTP status, when there was an answer. */
  readonly status: number | undefined;
  constructor(message: string, status?: number) {
    super(message);
    this.name = 'GraphError';
    this.status = status;
  }
}
