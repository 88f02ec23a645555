/** The device page's primary-user form: who the device belongs to, or nobody (a shared device). */
import { type FormEvent, useState } from 'react';
import { put } from '../../shared/api.ts';
import { Field } from '../../shared/components.tsx';
import { ActButton, enc, ReadOnlyNote, useAction } from './edit-kit.tsx';

export function PrimaryUserForm(props: { deviceId: string; current: string | null; onChanged: () => void }) {
  const a = useAction('primary-user');
  const [upn, setUpn] = useState('');
  const change = (e: FormEvent) => {
    e.preventDefault();
    const next = upn.trim();
    void a.run(
      next ? `Primary user changed to ${next}.` : 'The device is now shared (no primary user).',
      () => put(`/devices/${enc(props.deviceId)}/primary-user`, { upn: next || null }),
      () => {
        setUpn('');
        props.onChanged();
      },
    );
  };
  return (
    <section aria-labelledby="primary-user-h">
      <h2 id="primary-user-h">Change the primary user</h2>
      <ReadOnlyNote why={a.why} />
      <form className="narrow" aria-labelledby="primary-user-h" onSubmit={change}>
        <Field
          label="New primary user"
          hint={`Now: ${props.current ?? 'none (shared device)'}. A licensed, enabled user's UPN; leave empty to make the device shared.`}
        >
          {(f) => <input {...f} type="text" autoComplete="off" value={upn} onChange={(e) => setUpn(e.target.value)} />}
        </Field>
        <ActButton a={a} submit>
          Change primary user
        </ActButton>
      </form>
      {a.view}
    </section>
  );
}
