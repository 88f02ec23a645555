/**
 * A local OpenID Connect provider for end-to-end tests: oidc-provider on loopback over real TLS (its own
 * test CA, which the Winroll side trusts through `oidc add --ca-file`), its own RS256 signing key, one
 * confidential client, and a minimal login page a browser fills in: a user name (an account added with
 * `addAccount`) and a "second factor used" box that makes the ID token's `amr` contain `mfa`. Consent is
 * granted without a page.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Server, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
// oidc-provider ships no types; the few calls used here are typed locally.
import Provider from 'oidc-provider';
import { CertificateAuthority } from '../../src/pki/authority.js';
import { createRootCa } from '../../src/pki/ca.js';

export interface TestIdp {
  /** `https://127.0.0.1:<port>` */
  issuer: string;
  /** PEM of the CA that signed the provider's TLS certificate. */
  caPem: string;
  clientId: string;
  clientSecret: string;
  /** A user the login page accepts by `login`; `claims` go into the ID token (sub is the login). */
  addAccount(login: string, claims: Record<string, unknown>): void;
  /**
   * Changes the provider's redirects back to a registered redirect URI (the authorization response) before
   * the browser sees them: what an attacker who tampers with that URL would send. Undefined: unchanged.
   */
  rewriteResponse: ((url: URL) => URL) | undefined;
  close(): Promise<void>;
}

interface Interaction {
  uid: string;
  prompt: { name: string; details: Record<string, unknown> };
  params: Record<string, unknown>;
  session?: { accountId?: string };
  grantId?: string;
}

interface ProviderApi {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<Interaction>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    opts?: Record<string, unknown>,
  ): Promise<void>;
  Grant: new (init: {
    accountId: string;
    clientId: string;
  }) => {
    addOIDCScope(scope: string): void;
    addOIDCClaims(claims: string[]): void;
    save(): Promise<string>;
  };
}

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export async function startTestIdp(opts: { redirectUris: string[] }): Promise<TestIdp> {
  const now = new Date();
  const ca = await createRootCa({ commonName: 'Winroll Test IdP CA', organization: 'Winroll tests', validityYears: 1, now });
  const tlsCert = await new CertificateAuthority({ certPem: ca.certPem, keyPem: ca.keyPem }).issueServerCertificate({
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + 86400_000),
  });
  const accounts = new Map<string, Record<string, unknown>>();
  const clientId = 'winroll-enrollment';
  const clientSecret = randomBytes(24).toString('base64url');
  const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });

  let server: Server | undefined;
  let provider: ProviderApi | undefined;
  server = createServer({ key: tlsCert.keyPem, cert: tlsCert.certPem }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://idp');
    if (!url.pathname.startsWith('/interaction/')) {
      const setHeader = res.setHeader.bind(res);
      res.setHeader = (name: string, value: number | string | readonly string[]) => {
        const rewrite = idp.rewriteResponse;
        if (rewrite && name.toLowerCase() === 'location' && typeof value === 'string' && opts.redirectUris.some((r) => value.startsWith(r)))
          return setHeader(name, rewrite(new URL(value)).toString());
        return setHeader(name, value);
      };
      return provider?.callback()(req, res);
    }
    interaction(req, res, url).catch((err: unknown) => {
      res.statusCode = 500;
      res.end(String(err));
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const issuer = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  provider = new (Provider as unknown as new (issuer: string, config: Record<string, unknown>) => ProviderApi)(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: opts.redirectUris,
        grant_types: ['authorization_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_basic',
      },
    ],
    async findAccount(_ctx: unknown, id: string) {
      const claims = accounts.get(id);
      return claims && { accountId: id, claims: async () => ({ sub: id, ...claims }) };
    },
    // oidc-provider puts amr in the ID token only when a requested scope lists it.
    claims: { openid: ['sub', 'amr'], email: ['email', 'email_verified'], profile: ['name', 'preferred_username', 'upn'] },
    // Scope claims in the ID token itself, as Keycloak and Google do.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx: unknown, i: { uid: string }) => `/interaction/${i.uid}` },
    jwks: { keys: [{ ...signingKey, kid: 'test-idp-1', use: 'sig', alg: 'RS256' }] },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    ttl: { AccessToken: 600, AuthorizationCode: 60, IdToken: 600, Interaction: 600, Session: 3600, Grant: 3600 },
  });

  /** The login page (GET), its submission (POST), and consent granted without asking. */
  async function interaction(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const p = provider as ProviderApi;
    const details = await p.interactionDetails(req, res);
    if (details.prompt.name === 'consent') {
      const grant = new p.Grant({ accountId: details.session?.accountId ?? '', clientId });
      grant.addOIDCScope(String(details.params.scope ?? 'openid'));
      grant.addOIDCClaims(['email', 'email_verified', 'name', 'preferred_username', 'upn']);
      const grantId = await grant.save();
      return p.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    if (req.method === 'POST') {
      const form = new URLSearchParams(await body(req));
      const login = form.get('login') ?? '';
      if (!accounts.has(login)) return loginPage(res, url.pathname, 'No such account at this test provider.');
      const amr = form.get('mfa') === 'on' ? ['pwd', 'mfa'] : ['pwd'];
      return p.interactionFinished(req, res, { login: { accountId: login, amr } }, { mergeWithLastSubmission: false });
    }
    return loginPage(res, url.pathname, '', String(details.params.login_hint ?? ''));
  }

  const idp: TestIdp = {
    issuer,
    caPem: ca.certPem,
    clientId,
    clientSecret,
    rewriteResponse: undefined,
    addAccount(login, claims) {
      accounts.set(login, claims);
    },
    async close() {
      await new Promise<void>((resolve) => {
        server?.close(() => resolve());
        server?.closeAllConnections();
      });
    },
  };
  return idp;
}

function loginPage(res: ServerResponse, action: string, error: string, hint = ''): void {
  res.statusCode = 200;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.end(`<!DOCTYPE html><html lang="en"><head><title>Test IdP</title></head><body><main><h1>Test IdP sign-in</h1>
${error ? `<p role="alert">${esc(error)}</p>` : ''}<p>Login hint: <span id="hint">${esc(hint)}</span></p>
<form method="post" action="${esc(action)}">
<label for="login">IdP user</label><input id="login" name="login">
<label><input type="checkbox" name="mfa"> Second factor used</label>
<button type="submit">Continue</button></form></main></body></html>`);
}

function body(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
