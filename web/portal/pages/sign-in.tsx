/** Sign-in with the work account and password (the directory's own sign-in). */
import { type FormEvent, useState } from 'react';
import { errorText } from '../../shared/api.ts';
import { Field } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import { type PortalSession, portalApi } from '../portal-api.ts';

export function SignIn({ onSignedIn }: { onSignedIn: (s: PortalSession) => void }) {
  const [upn, setUpn] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await portalApi.post<PortalSession>('/session', { upn, password }));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="narrow" onSubmit={submit} aria-describedby="sign-in-intro">
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
  );
}
