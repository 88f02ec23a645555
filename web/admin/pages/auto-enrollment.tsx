/**
 * Automatic enrollment: the MDM and MAM user scopes (none / some groups / all), the warnings the API returns
 * (e.g. users in both scopes), and the three MDM URLs with restore defaults. Administrators only may change.
 */
import { type FormEvent, useCallback, useEffect, useState } from 'react';
import { errorText, get, post, put } from '../../shared/api.ts';
import { Field } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import { useSession } from '../app.tsx';
import { adminOnlyReason } from './licenses.tsx';
import { type Group, getAll, useLoad } from './users.tsx';

type Mode = 'none' | 'some' | 'all';
interface Scope {
  mode: Mode;
  groups: { id: string; name: string }[];
}
interface Urls {
  termsOfUse: string;
  discovery: string;
  compliance: string;
}
interface Settings {
  mdmScope: Scope;
  mamScope: Scope;
  warnings: string[];
  urls: Urls;
  customUrls: { [K in keyof Urls]: string | null };
}

const URL_NAMES: [keyof Urls, string][] = [
  ['termsOfUse', 'MDM terms of use URL'],
  ['discovery', 'MDM discovery URL'],
  ['compliance', 'MDM compliance URL'],
];

function ScopeEditor(props: {
  kind: 'MDM' | 'MAM';
  scope: Scope;
  groups: Group[];
  disabled: string | undefined;
  onSave: (s: { mode: Mode; groups: string[] }) => Promise<void>;
}) {
  const [mode, setMode] = useState<Mode>(props.scope.mode);
  const [picked, setPicked] = useState<string[]>(props.scope.groups.map((g) => g.name));
  useEffect(() => {
    setMode(props.scope.mode);
    setPicked(props.scope.groups.map((g) => g.name));
  }, [props.scope]);
  const id = `scope-${props.kind.toLowerCase()}`;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void props.onSave({ mode, groups: mode === 'some' ? picked : [] });
  };
  const off = props.disabled !== undefined;
  return (
    <section aria-labelledby={id}>
      <h2 id={id}>{props.kind} user scope</h2>
      <form onSubmit={submit} className="narrow">
        <fieldset className="choices">
          <legend>Who gets {props.kind === 'MDM' ? 'device management (MDM)' : 'app protection (MAM)'}</legend>
          {(['none', 'some', 'all'] as const).map((m) => (
            <label key={m}>
              <input type="radio" name={`${id}-mode`} value={m} checked={mode === m} disabled={off} onChange={() => setMode(m)} />{' '}
              {m === 'none' ? 'None' : m === 'some' ? 'Some (the groups below)' : 'All users'}
            </label>
          ))}
        </fieldset>
        {mode === 'some' ? (
          <fieldset className="choices">
            <legend>{props.kind} scope groups</legend>
            {props.groups.length === 0 ? <p className="muted">No groups yet.</p> : null}
            {props.groups.map((g) => (
              <label key={g.id}>
                <input
                  type="checkbox"
                  checked={picked.includes(g.name)}
                  disabled={off}
                  onChange={(e) => setPicked((p) => (e.target.checked ? [...p, g.name] : p.filter((x) => x !== g.name)))}
                />{' '}
                {g.name}
              </label>
            ))}
          </fieldset>
        ) : null}
        <div className="actions">
          <button type="submit" className="button-primary" disabled={off} title={props.disabled}>
            Save {props.kind} scope
          </button>
        </div>
      </form>
    </section>
  );
}

export function AutoEnrollmentPage() {
  const session = useSession();
  const why = adminOnlyReason(session.role);
  const loaded = useLoad(() => Promise.all([get<Settings>('/settings/enrollment'), getAll<Group>('/groups')]), []);
  const [settings, setSettings] = useState<Settings | null>(null);
  const [urls, setUrls] = useState<Record<keyof Urls, string>>({ termsOfUse: '', discovery: '', compliance: '' });
  const [msg, setMsg] = useState<{ error: string | null; ok: string | null }>({ error: null, ok: null });
  const [busy, setBusy] = useState(false);

  const show = useCallback((s: Settings) => {
    setSettings(s);
    setUrls({
      termsOfUse: s.customUrls.termsOfUse ?? '',
      discovery: s.customUrls.discovery ?? '',
      compliance: s.customUrls.compliance ?? '',
    });
  }, []);
  useEffect(() => {
    if (loaded.data) show(loaded.data[0]);
  }, [loaded.data, show]);

  const run = async (what: string, call: () => Promise<Settings>) => {
    setBusy(true);
    setMsg({ error: null, ok: null });
    try {
      show(await call());
      setMsg({ error: null, ok: `${what}.` });
    } catch (e) {
      setMsg({ error: errorText(e), ok: null });
    } finally {
      setBusy(false);
    }
  };
  const groups = loaded.data?.[1] ?? [];
  const off = why ?? (busy ? 'Saving…' : undefined);

  return (
    <>
      <Status error={loaded.error}>{settings ? null : 'Loading…'}</Status>
      {why ? <p className="muted">{why}</p> : null}
      <Status error={msg.error}>{msg.ok}</Status>
      {settings && settings.warnings.length > 0 ? (
        <div className="alert alert-warn" role="alert" aria-label="Scope warnings">
          <ul>
            {settings.warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {settings ? (
        <>
          <ScopeEditor
            kind="MDM"
            scope={settings.mdmScope}
            groups={groups}
            disabled={off}
            onSave={(s) => run('MDM scope saved', () => put<Settings>('/settings/scopes', { mdm: s }))}
          />
          <ScopeEditor
            kind="MAM"
            scope={settings.mamScope}
            groups={groups}
            disabled={off}
            onSave={(s) => run('MAM scope saved', () => put<Settings>('/settings/scopes', { mam: s }))}
          />
          <section aria-labelledby="mdm-urls">
            <h2 id="mdm-urls">MDM URLs</h2>
            <form
              className="narrow"
              onSubmit={(e) => {
                e.preventDefault();
                const body = Object.fromEntries(URL_NAMES.map(([k]) => [k, urls[k].trim() === '' ? null : urls[k].trim()]));
                void run('URLs saved', () => put<Settings>('/settings/urls', body));
              }}
            >
              {URL_NAMES.map(([k, label]) => (
                <Field key={k} label={label} hint={`Devices get: ${settings.urls[k]}. Empty = Winroll's own page.`}>
                  {(a) => (
                    <input
                      {...a}
                      type="url"
                      value={urls[k]}
                      disabled={off !== undefined}
                      onChange={(e) => setUrls((u) => ({ ...u, [k]: e.target.value }))}
                    />
                  )}
                </Field>
              ))}
              <div className="actions">
                <button type="submit" className="button-primary" disabled={off !== undefined} title={off}>
                  Save URLs
                </button>
                <button
                  type="button"
                  disabled={off !== undefined}
                  title={off}
                  onClick={() => void run('Default URLs restored', () => post<Settings>('/settings/urls/restore-defaults'))}
                >
                  Restore defaults
                </button>
              </div>
            </form>
          </section>
        </>
      ) : null}
    </>
  );
}
