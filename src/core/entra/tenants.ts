/**
 * Connecting Entra ID tenants (`winroll entra connect|list|disconnect`, `/api/v1/entra/tenants`): checks what
 * the admin gives and stores it, audited like every admin change. Reading the JWKS file is the caller's job
 * (core does no I/O); the document is validated here. Connecting again with the same values changes
 * nothing (idempotent); with other values it replaces the connection.
 */
import { type AuditContext, AuditTrail, CLI_CONTEXT } from '../admin/audit.js';
import type { AuditStore } from '../admin/ports.js';
import { InvalidInputError, NotFoundError } from '../../shared/errors.js';
import type { Clock } from '../../shared/clock.js';
import type { EntraStore, EntraTenant } from './ports.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The two issuers Entra uses for a tenant: v1 (sts.windows.net) and v2 (login.microsoftonline.com). */
export function defaultIssuers(tenantId: string): string[] {
  return [`https://sts.windows.net/${tenantId}/`, `https://login.microsoftonline.com/${tenantId}/v2.0`];
}

/** Where Entra publishes a tenant's signing keys (the default when the admin gives neither file nor URL). */
export function defaultJwksUrl(tenantId: string): string {
  return `https://login.microsoftonline.com/${tenantId}/discovery/v2.0/keys`;
}

/** Plain http only to this machine (a local stand-in or proxy): keys fetched over a network need TLS. */
function isLoopback(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

export function normalizeGuid(v: string, what: string): string {
  const g = v
    .trim()
    .toLowerCase()
    .replace(/^\{|\}$/g, '');
  if (!GUID.test(g)) throw new InvalidInputError(`${what} must be a GUID, not "${v.slice(0, 64)}"`);
  return g;
}

/** Checks a JWKS document: JSON with a non-empty `keys` array of RSA keys. Returns it compacted. */
export function checkJwks(json: string): string {
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch {
    throw new InvalidInputError('the JWKS document is not valid JSON');
  }
  const keys = (doc as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new InvalidInputError('the JWKS document has no "keys"');
  for (const k of keys as Array<Record<string, unknown>>) {
    if (typeof k !== 'object' || k === null || k.kty !== 'RSA' || typeof k.n !== 'string' || typeof k.e !== 'string')
      throw new InvalidInputError('every JWKS key must be an RSA public key (kty RSA, n, e)');
    if ('d' in k) throw new InvalidInputError('the JWKS document holds a private key; give the public keys only');
  }
  return JSON.stringify({ keys });
}

/** A connection as admins see it (CLI, API, audit log): never the key material itself. */
export function tenantView(t: EntraTenant) {
  let stored: number | null = null;
  if (t.jwksJson !== null) {
    try {
      stored = (JSON.parse(t.jwksJson) as { keys?: unknown[] }).keys?.length ?? 0;
    } catch {
      stored = 0;
    }
  }
  return {
    tenantId: t.tenantId,
    clientId: t.clientId,
    issuers: t.issuers,
    keys: t.jwksUrl !== null ? { url: t.jwksUrl } : { stored: stored ?? 0 },
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
  };
}

export class EntraTenants {
  readonly #store: EntraStore & AuditStore;
  readonly #clock: Clock;
  readonly #audit: AuditTrail;

  constructor(deps: { store: EntraStore & AuditStore; clock: Clock }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#audit = new AuditTrail({ store: deps.store, clock: deps.clock });
  }

  /**
   * Without a JWKS file or URL the keys come from Entra's published key URL of the tenant. Returns the
   * connection and whether anything changed (false: connected already with these values).
   */
  async connect(
    input: {
      tenantId: string;
      clientId: string;
      issuers?: string[] | undefined;
      jwksJson?: string | undefined;
      jwksUrl?: string | undefined;
    },
    ctx: AuditContext = CLI_CONTEXT,
  ): Promise<EntraTenant & { changed: boolean }> {
    const tenantId = normalizeGuid(input.tenantId, 'the tenant id');
    const clientId = normalizeGuid(input.clientId, 'the client id');
    if (input.jwksJson !== undefined && input.jwksUrl !== undefined)
      throw new InvalidInputError('give the signing keys either as a JWKS file or as a JWKS URL, not both');
    let jwksUrl: string | null = null;
    if (input.jwksJson === undefined) {
      const raw = input.jwksUrl ?? defaultJwksUrl(tenantId);
      let u: URL;
      try {
        u = new URL(raw);
      } catch {
        throw new InvalidInputError(`the JWKS URL "${raw.slice(0, 200)}" is not a URL`);
      }
      if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopback(u.hostname)))
        throw new InvalidInputError('the JWKS URL must be https (plain http only to this machine)');
      if (u.username || u.password) throw new InvalidInputError('the JWKS URL must not carry credentials');
      jwksUrl = u.toString();
    }
    const issuers = input.issuers?.length ? [...new Set(input.issuers.map((i) => i.trim()))] : defaultIssuers(tenantId);
    for (const iss of issuers)
      if (!/^https:\/\/\S+$/.test(iss)) throw new InvalidInputError(`issuer "${iss.slice(0, 200)}" is not an https URL`);
    const jwksJson = input.jwksJson === undefined ? null : checkJwks(input.jwksJson);

    const before = await this.#store.getEntraTenant(tenantId);
    if (
      before &&
      before.clientId === clientId &&
      before.jwksJson === jwksJson &&
      before.jwksUrl === jwksUrl &&
      JSON.stringify(before.issuers) === JSON.stringify(issuers)
    ) {
      return { ...before, changed: false };
    }
    const saved = await this.#audit.record(
      ctx,
      { action: 'entra.tenant.connect', targetType: 'entra_tenant', targetId: tenantId, before: before ? tenantView(before) : null },
      () => this.#store.saveEntraTenant({ tenantId, clientId, issuers, jwksJson, jwksUrl, now: this.#clock.now() }),
      tenantView,
    );
    return { ...saved, changed: true };
  }

  list(): Promise<EntraTenant[]> {
    return this.#store.listEntraTenants();
  }

  async get(tenantId: string): Promise<EntraTenant> {
    const id = normalizeGuid(tenantId, 'the tenant id');
    const t = await this.#store.getEntraTenant(id);
    if (!t) throw new NotFoundError(`tenant ${id} is not connected`);
    return t;
  }

  async disconnect(tenantId: string, ctx: AuditContext = CLI_CONTEXT): Promise<{ tenantId: string }> {
    const id = normalizeGuid(tenantId, 'the tenant id');
    const before = await this.#store.getEntraTenant(id);
    if (!before) throw new NotFoundError(`tenant ${id} is not connected`);
    await this.#audit.record(
      ctx,
      { action: 'entra.tenant.disconnect', targetType: 'entra_tenant', targetId: id, before: tenantView(before) },
      async () => {
        if (!(await this.#store.deleteEntraTenant(id))) throw new NotFoundError(`tenant ${id} is not connected`);
      },
      () => null,
    );
    return { tenantId: id };
  }
}
