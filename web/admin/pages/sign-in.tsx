import { type FormEvent, useState } from 'react';
import { ApiError, post, type Session } from '../../shared/api.ts';
import { Field } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';

/**
 * Sign-in with a directory account that holds an admin role. A refusal shows the API's own reason (wrong
 * password, not an admin, no license while unlicensed admins are refused, too many attempts).
 */
export function SignInPage({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [upn, setUpn] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [missing, setMissing] = useState<{ upn?: string; password?: string }>({});

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    const m = { ...(upn.trim() ? {} : { upn: 'Enter your work account.' }), ...(password ? {} : { password: 'Enter your password.' }) };
    setMissing(m);
    if (m.upn || m.password) return;
    setBusy(true);
    setError(null);
    try {
      onSignedIn(await post<Session>('/session', { upn: upn.trim(), password }));
    } catch (err) {
      const reason = err instanceof ApiError ? err.message : 'The server cannot be reached.';
      setError(`Sign-in refused: ${reason.charAt(0).toUpperCase()}${reason.slice(1)}.`.replace(/\.\.$/, '.'));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form className="narrow" onSubmit={submit} noValidate>
      <p>Sign in with a work account that has an admin role in Winroll.</p>
      <Status error={error} />
      <Field label="Work account" hint="For example alice@contoso.com" error={missing.upn}>
        {(a) => <input {...a} type="email" autoComplete="username" value={upn} onChange={(e) => setUpn(e.target.value)} />}
      </Field>
      <Field label="Password" error={missing.password}>
        {(a) => (
          <input {...a} type="password" autoComplete="current-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        )}
      </Field>
      <button type="submit" className="button-primary" disabled={busy}>
        {busy ? 'Signing in…' : 'Sign in'}
      </button>
    </form>
  );
}
