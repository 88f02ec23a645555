/**
 * Sign-in with the work account and password (the directory's own sign-in), or through one of the
 * organisation's OpenID Connect providers (the same ones as the enrollment sign-in page). A provider
 * sign-in that was refused comes back here with a reason code in the URL, turned into text below.
 *
 * Users the MFA rule covers then give a verification code from their authenticator app: after the
 * password (the API answers `codeNeeded`), or after a provider (the callback comes back with `?step=code`).
 * The step itself lives in an HttpOnly cookie; this page only shows the code form.
 */
import { type FormEvent, useEffect, useRef, useState } from 'react';
import { ApiError, errorText } from '../../shared/api.ts';
import { Field } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import { type CodeNeeded, type OidcProviderChoice, type PortalSession, portalApi } from '../portal-api.ts';

const CONTACT = 'Contact your IT department.';

/** What each refusal of a provider sign-in means to the user; anything else gets the generic text. */
const REFUSALS: Record<string, string> = {
  unknown_user: `The account you signed in with at your identity provider is not an account of this Company Portal. ${CONTACT}`,
  disabled: `Your account is disabled, so you cannot sign in to the Company Portal. ${CONTACT}`,
  domain_not_allowed: 'That identity provider may not sign in accounts of your organisation here. Use another option.',
  cancelled: 'The sign-in at your identity provider was cancelled. Try again, or sign in with your password.',
  email_unverified: `Your identity provider has not verified the e-mail address of the account you signed in with. ${CONTACT}`,
  no_claim: `Your identity provider did not say which work account you signed in with. ${CONTACT}`,
  provider_unreachable: 'Your identity provider could not be reached. Try again in a moment, or sign in with your password.',
  unknown_provider: 'That sign-in option is no longer available. Use another option.',
  start_again: 'That sign-in took too long or could not be read. Start again.',
  state_mismatch: 'That sign-in could not be completed in this browser. Start again.',
  mfa_not_enrolled: `Your organisation requires a verification code from an authenticator app to sign in to the Company Portal, but none is set up for your account. ${CONTACT}`,
};

/**
 * What a provider sign-in came back with (from the URL), once: the URL is cleaned at once. `code`: the
 * provider was the first factor and the code step follows.
 */
function fromUrl(): { error: string | null; code: boolean } {
  const q = new URLSearchParams(window.location.search);
  const reason = q.get('sign_in_error');
  const code = q.get('step') === 'code';
  if (!reason && !code) return { error: null, code: false };
  window.history.replaceState(null, '', window.location.pathname);
  if (!reason) return { error: null, code };
  const ref = q.get('ref') ?? '';
  const known = REFUSALS[reason];
  if (known) return { error: known, code: false };
  // Only a trace id is echoed back, never other text from the URL.
  const reference = /^[0-9a-f-]{36}$/.test(ref) ? ` (reference ${ref})` : '';
  return {
    error: `The sign-in at your identity provider could not be completed${reference}. Try again, or ${CONTACT.toLowerCase()}`,
    code: false,
  };
}

/** Refusals after which the code step cannot continue: back to the first step with the reason. */
const STEP_OVER = new Set(['step_expired', 'mfa_not_enrolled', 'unauthenticated']);

export function SignIn({ onSignedIn }: { onSignedIn: (s: PortalSession) => void }) {
  const [initial] = useState(fromUrl);
  const [upn, setUpn] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(initial.error);
  const [busy, setBusy] = useState(false);
  const [providers, setProviders] = useState<OidcProviderChoice[]>([]);
  /** The code step: shown after the first factor for users the MFA rule covers (`upn` when known here). */
  const [codeStep, setCodeStep] = useState<{ upn: string | null } | null>(initial.code ? { upn: null } : null);

  useEffect(() => {
    portalApi
      .get<{ items: OidcProviderChoice[] }>('/oidc/providers')
      .then((r) => setProviders(r.items))
      // Without the list the password form still works.
      .catch(() => setProviders([]));
  }, []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await portalApi.post<PortalSession | CodeNeeded>('/session', { upn, password });
      if ('codeNeeded' in r) {
        setPassword('');
        setCodeStep({ upn: r.upn });
      } else onSignedIn(r);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }
  if (codeStep)
    return (
      <CodeForm
        upn={codeStep.upn}
        onSignedIn={onSignedIn}
        onRestart={(reason) => {
          setCodeStep(null);
          setError(reason);
        }}
      />
    );
  return (
    <div className="narrow">
      <form onSubmit={submit} aria-describedby="sign-in-intro">
        <p id="sign-in-intro">Sign in with your work account to enroll this device and manage your devices.</p>
        <Status error={error} />
        <Field label="Work account (e-mail address)">
          {(a) => <input {...a} type="email" autoComplete="username" required value={upn} onChange={(e) => setUpn(e.target.value)} />}
        </Field>
        <Field label="Password">
          {(a) => (
            <input
              {...a}
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(e) => setPassword(e.target.value)}
            />
          )}
        </Field>
        <button type="submit" className="button-primary" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      {providers.length > 0 && (
        <section aria-labelledby="other-sign-in">
          <h2 id="other-sign-in">Other ways to sign in</h2>
          <ul className="sign-in-providers">
            {providers.map((p) => (
              <li key={p.id}>
                {/* A full navigation: the provider's page opens, then comes back to the portal. */}
                <a className="button" href={p.href}>
                  Sign in with {p.name}
                </a>
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}

/**
 * The second step: one labelled field, numeric keyboard and one-time-code autofill, focused on arrival. A
 * wrong or reused code can be retried on the same step; an expired step goes back to the first one.
 */
function CodeForm(props: { upn: string | null; onSignedIn: (s: PortalSession) => void; onRestart: (reason: string | null) => void }) {
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => input.current?.focus(), []);

  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      props.onSignedIn(await portalApi.post<PortalSession>('/session/code', { code: code.replace(/\s+/g, '') }));
    } catch (err) {
      if (err instanceof ApiError && STEP_OVER.has(err.code)) {
        props.onRestart(errorText(err));
        return;
      }
      setError(errorText(err));
      setCode('');
      input.current?.focus();
    } finally {
      setBusy(false);
    }
  }

  return (
    <div className="narrow">
      <form onSubmit={submit} aria-labelledby="code-title" aria-describedby="code-intro">
        <h2 id="code-title">Verify it's you</h2>
        <p id="code-intro">
          {props.upn ? (
            <>
              Signed in as <strong>{props.upn}</strong>.{' '}
            </>
          ) : null}
          Your organisation requires a second step to sign in to the Company Portal.
        </p>
        <Status error={error} />
        <Field label="Verification code" hint="Open your authenticator app and enter the 6-digit code it shows.">
          {(a) => (
            <input
              {...a}
              ref={input}
              name="code"
              type="text"
              inputMode="numeric"
              autoComplete="one-time-code"
              maxLength={12}
              required
              aria-invalid={error ? true : undefined}
              value={code}
              onChange={(e) => setCode(e.target.value)}
            />
          )}
        </Field>
        <button type="submit" className="button-primary" disabled={busy}>
          {busy ? 'Verifying…' : 'Verify'}
        </button>{' '}
        <button type="button" className="linkish" onClick={() => props.onRestart(null)}>
          Start again
        </button>
      </form>
    </div>
  );
}
