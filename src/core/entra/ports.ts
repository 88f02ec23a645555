/**
 * Storage port of the Entra ID (directory token) connection: which tenants' tokens Winroll accepts for
 * automatic enrollment, the app (client id) they are issued to, the issuers allowed, and the signing keys
 * (a JWKS document kept in the database, or a URL the server fetches and caches).
 */

export interface EntraTenant {
  /** Directory (tenant) id, a lower-case GUID: the token's `tid`. */
  tenantId: string;
  /** The MDM app's client id (v2 tokens carry it as `aud`). */
  clientId: string;
  /** Accepted `iss` values, exact strings. */
  issuers: string[];
  /** The signing keys as a JWKS JSON document, when stored in the database. */
  jwksJson: string | null;
  /** Where the server fetches the signing keys, when not stored. */
  jwksUrl: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface EntraStore {
  /** Inserts or replaces the connection of one tenant. */
  saveEntraTenant(input: Omit<EntraTenant, 'createdAt' | 'updatedAt'> & { now: Date }): Promise<EntraTenant>;
  getEntraTenant(tenantId: string): Promise<EntraTenant | undefined>;
  listEntraTenants(): Promise<EntraTenant[]>;
  /** False when the tenant was not connected. */
  deleteEntraTenant(tenantId: string): Promise<boolean>;
  /**
   * Links a user to their directory object id (`oid`) in a tenant, once: 'linked' the first time, 'same'
   * when the user already has this link, 'conflict' (changing nothing) when the user is linked to another
   * object, or another user holds this object id in the tenant.
   */
  linkDirectoryObject(input: { userId: string; tenantId: string; objectId: string; now: Date }): Promise<DirectoryLinkResult>;
  /** The user's link, if any. */
  getDirectoryLink(userId: string): Promise<{ tenantId: string; objectId: string; linkedAt: Date } | undefined>;
}

export type DirectoryLinkResult =
  | { result: 'linked' | 'same' }
  | { result: 'conflict'; why: 'user_has_other_object' | 'object_has_other_user'; tenantId: string; objectId: string };
