/**
 * Connecting Entra ID tenants (`winroll entra connect|list|disconnect`): checks what the admin gives and
 * stores it. Reading the JWKS file is the caller's job (core does no I/O); the document is validated here.
 */
import { InvalidInputError, NotFoundError } from '../../shared/errors.js';
import type { Clock } from '../../shared/clock.js';
import type { EntraStore, EntraTenant } from './ports.js';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The two issuers Entra uses for a tenant: v1 (sts.windows.net) and v2 (login.microsoftonline.com). */
export function defaultIssuers(tenantId: string): string[] {
  return [`https://sts.windows.net/${tenantId}/`, `https://login.microsoftonline.com/${tenantId}/v2.0`];
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

export class EntraTenants {
  readonly #store: EntraStore;
  readonly #clock: Clock;

  constructor(deps: { store: EntraStore; clock: Clock }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
  }

  async connect(input: {
    tenantId: string;
    clientId: string;
    issuers?: string[] | undefined;
    jwksJson?: string | undefined;
    jwksUrl?: string | undefined;
  }): Promise<EntraTenant> {
    const tenantId = normalizeGuid(input.tenantId, 'the tenant id');
    const clientId = normalizeGuid(input.clientId, 'the client id');
    if ((input.jwksJson === undefined) === (input.jwksUrl === undefined))
      throw new InvalidInputError('give the signing keys either as a JWKS file or as a JWKS URL');
    let jwksUrl: string | null = null;
    if (input.jwksUrl !== undefined) {
      let u: URL;
      try {
        u = new URL(input.jwksUrl);
      } catch {
        throw new InvalidInputError(`the JWKS URL "${input.jwksUrl.slice(0, 200)}" is not a URL`);
      }
      if (u.protocol !== 'https:') throw new InvalidInputError('the JWKS URL must be https');
      jwksUrl = u.toString();
    }
    const issuers = input.issuers?.length ? [...new Set(input.issuers)] : defaultIssuers(tenantId);
    for (const iss of issuers)
      if (!/^https:\/\/\S+$/.test(iss)) throw new InvalidInputError(`issuer "${iss.slice(0, 200)}" is not an https URL`);
    return this.#store.saveEntraTenant({
      tenantId,
      clientId,
      issuers,
      jwksJson: input.jwksJson === undefined ? null : checkJwks(input.jwksJson),
      jwksUrl,
      now: this.#clock.now(),
    });
  }

  list(): Promise<EntraTenant[]> {
    return this.#store.listEntraTenants();
  }

  async disconnect(tenantId: string): Promise<{ tenantId: string }> {
    const id = normalizeGuid(tenantId, 'the tenant id');
    if (!(await this.#store.deleteEntraTenant(id))) throw new NotFoundError(`tenant ${id} is not connected`);
    return { tenantId: id };
  }
}
