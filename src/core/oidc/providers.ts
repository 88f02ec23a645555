/**
 * The OIDC providers an admin configures (`winroll oidc add|list|remove`, `/api/v1/oidc-providers`):
 * validation, sealing of the client secret, and the audit entry of every change. The CLI and the API
 * both come through here, so no change skips the audit log and no path stores a secret in the clear.
 */
import { X509Certificate, randomUUID } from 'node:crypto';
import type { Clock } from '../../shared/clock.js';
import { InvalidInputError, NotFoundError } from '../../shared/errors.js';
import { type AuditContext, AuditTrail } from '../admin/audit.js';
import type { AuditStore } from '../admin/ports.js';
import { normalizeDomainName } from '../directory/names.js';
import { SecretBox } from '../mfa/secret-box.js';
import { OIDC_CLAIMS, type OidcClaim, type OidcProvider, type OidcProviderStore } from './ports.js';

export const DEFAULT_OIDC_SCOPES = ['openid', 'email', 'profile'];
const NAME = /^[A-Za-z0-9][A-Za-z0-9 ._-]{0,47}$/;
/** RFC 6749 scope-token characters. */
const SCOPE = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;
const CLIENT_ID = /^[\x21-\x7e]{1,256}$/;

/** The sealing key of client secrets: its own purpose, so it never decrypts a TOTP secret or vice versa. */
export function clientSecretBox(masterKey: Uint8Array): SecretBox {
  return new SecretBox(masterKey, 'oidc client secret encryption v1');
}

/** What the sealed secret is bound to: a ciphertext copied onto another provider's row does not open. */
export function clientSecretBinding(providerId: string): string {
  return `oidc-provider:${providerId}`;
}

/** A provider as admins see it: never the secret, sealed or not. */
export interface OidcProviderView {
  id: string;
  name: string;
  issuer: string;
  clientId: string;
  scopes: string[];
  claim: OidcClaim;
  domains: string[];
  trustMfa: boolean;
  /** Whether extra CA certificates are trusted for this provider. */
  customCa: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export function oidcProviderView(p: OidcProvider): OidcProviderView {
  return {
    id: p.id,
    name: p.name,
    issuer: p.issuer,
    clientId: p.clientId,
    scopes: p.scopes,
    claim: p.claim,
    domains: p.domains,
    trustMfa: p.trustMfa,
    customCa: p.caPem !== null,
    createdAt: p.createdAt,
    updatedAt: p.updatedAt,
  };
}

export interface NewOidcProviderInput {
  name: string;
  issuer: string;
  clientId: string;
  clientSecret: string;
  scopes?: readonly string[] | undefined;
  claim?: string | undefined;
  domains?: readonly string[] | undefined;
  trustMfa?: boolean | undefined;
  caPem?: string | undefined;
}

export class OidcProviders {
  readonly #store: OidcProviderStore;
  readonly #clock: Clock;
  readonly #box: SecretBox;
  readonly #audit: AuditTrail;

  constructor(deps: { store: OidcProviderStore & AuditStore; masterKey: Uint8Array; clock: Clock }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#box = clientSecretBox(deps.masterKey);
    this.#audit = new AuditTrail({ store: deps.store, clock: deps.clock });
  }

  async list(): Promise<OidcProviderView[]> {
    return (await this.#store.listOidcProviders()).map(oidcProviderView);
  }

  async add(ctx: AuditContext, input: NewOidcProviderInput): Promise<OidcProviderView> {
    const checked = checkInput(input);
    const id = randomUUID();
    const saved = await this.#audit.record(
      ctx,
      { action: 'oidc_provider.add', targetType: 'oidc_provider', targetId: checked.name },
      () =>
        this.#store.addOidcProvider({
          ...checked,
          id,
          clientSecretSealed: this.#box.seal(input.clientSecret.trim(), clientSecretBinding(id)),
          now: this.#clock.now(),
        }),
      oidcProviderView,
    );
    return oidcProviderView(saved);
  }

  async remove(ctx: AuditContext, name: string): Promise<OidcProviderView> {
    const before = await this.#store.getOidcProviderByName(name.trim());
    if (!before) throw new NotFoundError(`no OIDC provider named "${name.slice(0, 64)}"; see: winroll oidc list`);
    const view = oidcProviderView(before);
    await this.#audit.record(
      ctx,
      { action: 'oidc_provider.remove', targetType: 'oidc_provider', targetId: before.name, before: view },
      async () => {
        if (!(await this.#store.deleteOidcProvider(before.id)))
          throw new NotFoundError(`OIDC provider "${before.name}" was removed meanwhile`);
      },
      () => null,
    );
    return view;
  }
}

/** Validates and normalises what the admin gave (everything but the secret's sealing). */
function checkInput(input: NewOidcProviderInput): Omit<OidcProvider, 'id' | 'clientSecretSealed' | 'createdAt' | 'updatedAt'> {
  const name = input.name.trim();
  if (!NAME.test(name))
    throw new InvalidInputError(
      'the provider name must be 1-48 letters, digits, spaces, dots, dashes or underscores, starting with a letter or digit',
    );

  let issuer: URL;
  try {
    issuer = new URL(input.issuer.trim());
  } catch {
    throw new InvalidInputError(`the issuer "${input.issuer.slice(0, 200)}" is not a URL`);
  }
  // The issuer is compared exactly with the discovered metadata and the ID token's iss: keep it as given.
  if (issuer.protocol !== 'https:') throw new InvalidInputError('the issuer must be an https URL');
  if (issuer.search || issuer.hash || issuer.username || issuer.password)
    throw new InvalidInputError('the issuer must not carry a query, fragment or credentials');

  const clientId = input.clientId.trim();
  if (!CLIENT_ID.test(clientId)) throw new InvalidInputError('the client id must be 1-256 printable characters without spaces');
  const secret = input.clientSecret.trim();
  if (secret.length === 0 || secret.length > 4096) throw new InvalidInputError('the client secret must be 1-4096 characters');

  const scopes = [
    ...new Set((input.scopes?.length ? input.scopes : DEFAULT_OIDC_SCOPES).flatMap((s) => s.split(/[\s,]+/)).filter(Boolean)),
  ];
  for (const s of scopes) if (!SCOPE.test(s)) throw new InvalidInputError(`"${s.slice(0, 64)}" is not a valid OAuth scope`);
  if (!scopes.includes('openid')) scopes.unshift('openid');

  const claim = (input.claim ?? 'email').trim();
  if (!(OIDC_CLAIMS as readonly string[]).includes(claim))
    throw new InvalidInputError(`the claim must be one of ${OIDC_CLAIMS.join(', ')}, not "${claim.slice(0, 64)}"`);

  const domains = [
    ...new Set(
      (input.domains ?? [])
        .flatMap((d) => d.split(','))
        .map((d) => d.trim())
        .filter(Boolean)
        .map(normalizeDomainName),
    ),
  ];

  let caPem: string | null = null;
  if (input.caPem !== undefined && input.caPem.trim() !== '') {
    caPem = checkCaPem(input.caPem);
  }
  return {
    name,
    issuer: input.issuer.trim(),
    clientId,
    scopes,
    claim: claim as OidcClaim,
    domains,
    trustMfa: input.trustMfa === true,
    caPem,
  };
}

/** One or more PEM certificates, each parsed; returned as a clean bundle. */
function checkCaPem(pem: string): string {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (blocks.length === 0) throw new InvalidInputError('the CA file holds no PEM certificate');
  if (/PRIVATE KEY-----/.test(pem)) throw new InvalidInputError('the CA file holds a private key; give the certificates only');
  for (const b of blocks) {
    try {
      new X509Certificate(b);
    } catch {
      throw new InvalidInputError('a certificate in the CA file cannot be read');
    }
  }
  return `${blocks.join('\n')}\n`;
}
