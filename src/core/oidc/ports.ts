/**
 * Storage port of the OpenID Connect providers an admin configures for the federated sign-in page
 * (`winroll oidc add|list|remove`): where the provider is (issuer; its metadata is discovered when used),
 * the client registered there, which claim names the Winroll user, which UPN suffixes it may sign in, and
 * whether its MFA assertion (`amr` containing `mfa`) replaces Winroll's own code step.
 */

/** The ID-token (or userinfo) claim whose value is looked up as a Winroll UPN. */
export const OIDC_CLAIMS = ['upn', 'email', 'preferred_username'] as const;
export type OidcClaim = (typeof OIDC_CLAIMS)[number];

export interface OidcProvider {
  /** Random UUID; the sealed client secret is bound to it. */
  id: string;
  /** What the sign-in page shows ("Sign in with <name>") and the CLI and API address; unique, case-insensitively. */
  name: string;
  /** Issuer identifier (https URL); `<issuer>/.well-known/openid-configuration` is fetched at use time. */
  issuer: string;
  clientId: string;
  /** SecretBox ciphertext (purpose "oidc client secret", bound to the id); never the secret itself. */
  clientSecretSealed: string;
  /** Always contains `openid`. */
  scopes: string[];
  claim: OidcClaim;
  /** Lower-case UPN suffixes this provider may sign in; empty means every configured domain. */
  domains: string[];
  /** Whether an `amr` containing `mfa` counts as the second factor the MFA setting asks for. */
  trustMfa: boolean;
  /** Extra CA certificates (PEM) trusted for this provider's HTTPS only (an internal CA), or null. */
  caPem: string | null;
  createdAt: Date;
  updatedAt: Date;
}

export type NewOidcProvider = Omit<OidcProvider, 'createdAt' | 'updatedAt'> & { now: Date };

export interface OidcProviderStore {
  /** Throws ConflictError when a provider with the same name (ignoring case) exists. */
  addOidcProvider(input: NewOidcProvider): Promise<OidcProvider>;
  getOidcProvider(id: string): Promise<OidcProvider | undefined>;
  /** Case-insensitive. */
  getOidcProviderByName(name: string): Promise<OidcProvider | undefined>;
  /** Ordered by name. */
  listOidcProviders(): Promise<OidcProvider[]>;
  /** False when there was no such provider. */
  deleteOidcProvider(id: string): Promise<boolean>;
}
