import { type FormEvent, useEffect, useState } from 'react';
import { del, errorText, get, type Page, post, put } from '../../shared/api.ts';
import { Badge, DataTable, Field, When } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import { Link, navigate } from '../../shared/router.tsx';
import type { Profile, ProfileDetail } from '../setup-types.ts';
import { ActButton, enc, ReadOnlyNote, useAction } from './edit-kit.tsx';
import { type Group, getAll, useLoad } from './users.tsx';

const FORMATS = ['chr', 'int', 'bool', 'b64', 'xml', 'float'] as const;
type Row = { path: string; format: (typeof FORMATS)[number]; value: string };
const ENFORCEMENT = { off: 'Off', silent: 'Silent', override: 'Allow overrides', block: 'Block' } as const;

/** Comma- or line-separated list → array (empty → undefined). */
function list(s: string): string[] | undefined {
  const out = s
    .split(/[,\n]/)
    .map((x) => x.trim())
    .filter(Boolean);
  return out.length ? out : undefined;
}

/** The OMA-URI settings rows of a custom profile, editable (create and edit forms). */
type Scope = 'device' | 'user';

/** Whether a custom profile's settings go to the device or to each signed-in user (create and edit). */
function ScopeField({ scope, setScope, off }: { scope: Scope; setScope: (s: Scope) => void; off: boolean }) {
  return (
    <div className="narrow">
      <Field label="Scope">
        {(f) => (
          <select {...f} value={scope} disabled={off} onChange={(e) => setScope(e.target.value as Scope)}>
            <option value="device">Device</option>
            <option value="user">User</option>
          </select>
        )}
      </Field>
    </div>
  );
}

function SettingRows({ rows, setRows, off }: { rows: Row[]; setRows: (r: Row[]) => void; off: boolean }) {
  const setRow = (i: number, r: Partial<Row>) => setRows(rows.map((x, j) => (j === i ? { ...x, ...r } : x)));
  return (
    <fieldset>
      <legend>Settings</legend>
      {rows.map((r, i) => (
        // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity but their position
        <fieldset className="filters" key={i}>
          <legend>Setting {i + 1}</legend>
          <Field label={`OMA-URI ${i + 1}`} hint="Below the scope root, e.g. Vendor/MSFT/Policy/Config/Camera/AllowCamera">
            {(f) => (
              <input {...f} required className="mono" value={r.path} disabled={off} onChange={(e) => setRow(i, { path: e.target.value })} />
            )}
          </Field>
          <Field label={`Format ${i + 1}`}>
            {(f) => (
              <select {...f} value={r.format} disabled={off} onChange={(e) => setRow(i, { format: e.target.value as Row['format'] })}>
                {FORMATS.map((x) => (
                  <option key={x} value={x}>
                    {x}
                  </option>
                ))}
              </select>
            )}
          </Field>
          <Field label={`Value ${i + 1}`}>
            {(f) => <input {...f} className="mono" value={r.value} disabled={off} onChange={(e) => setRow(i, { value: e.target.value })} />}
          </Field>
          <div className="actions">
            <button type="button" disabled={off || rows.length === 1} onClick={() => setRows(rows.filter((_, j) => j !== i))}>
              Remove setting {i + 1}
            </button>
          </div>
        </fieldset>
      ))}
      <div className="actions">
        <button type="button" disabled={off} onClick={() => setRows([...rows, { path: '', format: 'chr', value: '' }])}>
          Add a setting
        </button>
      </div>
    </fieldset>
  );
}

/** Create a profile: custom settings rows, or Windows Information Protection from its named fields. */
function CreateProfile() {
  const a = useAction('Profile creation');
  const off = !!a.why;
  const [name, setName] = useState('');
  const [type, setType] = useState<'custom' | 'wip'>('custom');
  const [scope, setScope] = useState<'device' | 'user'>('device');
  const [rows, setRows] = useState<Row[]>([{ path: '', format: 'int', value: '' }]);
  const [wip, setWip] = useState({
    enterpriseId: '',
    enforcement: 'override' as keyof typeof ENFORCEMENT,
    protectedDomains: '',
    networkDomains: '',
    ipRanges: '',
    cloudResources: '',
    apps: '',
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const body =
      type === 'custom'
        ? { type, scope, settings: rows }
        : {
            type,
            wip: {
              enterpriseId: wip.enterpriseId,
              enforcement: wip.enforcement,
              protectedDomains: list(wip.protectedDomains),
              networkDomains: list(wip.networkDomains),
              ipRanges: list(wip.ipRanges),
              cloudResources: list(wip.cloudResources),
              allowedApps: wip.apps.trim()
                ? wip.apps
                    .split('\n')
                    .map((l) => l.trim())
                    .filter(Boolean)
                    .map((l) => {
                      const [publisher = '', product] = l.split('|').map((x) => x.trim());
                      return { kind: 'store' as const, publisher, ...(product ? { product } : {}) };
                    })
                : undefined,
            },
          };
    const n = name.trim();
    void a.run(
      `Profile ${n} created.`,
      () => put(`/profiles/${enc(n)}`, body),
      () => navigate(`profiles/${enc(n)}`),
    );
  };
  return (
    <section aria-labelledby="create-profile">
      <h2 id="create-profile">Create a profile</h2>
      <ReadOnlyNote why={a.why} />
      {a.view}
      <form aria-labelledby="create-profile" onSubmit={submit}>
        <div className="narrow">
          <Field label="Profile name" hint="Saving under an existing name replaces that profile">
            {(f) => <input {...f} required maxLength={128} value={name} disabled={off} onChange={(e) => setName(e.target.value)} />}
          </Field>
          <Field label="Profile type">
            {(f) => (
              <select {...f} value={type} disabled={off} onChange={(e) => setType(e.target.value as 'custom' | 'wip')}>
                <option value="custom">Custom (OMA-URI settings)</option>
                <option value="wip">Windows Information Protection</option>
              </select>
            )}
          </Field>
        </div>
        {type === 'custom' ? (
          <>
            <ScopeField scope={scope} setScope={setScope} off={off} />
            <SettingRows rows={rows} setRows={setRows} off={off} />
          </>
        ) : (
          <div className="narrow">
            <Field label="Enterprise ID" hint="The primary identity domain, e.g. contoso.com">
              {(f) => (
                <input
                  {...f}
                  required
                  value={wip.enterpriseId}
                  disabled={off}
                  onChange={(e) => setWip({ ...wip, enterpriseId: e.target.value })}
                />
              )}
            </Field>
            <Field label="Enforcement">
              {(f) => (
                <select
                  {...f}
                  value={wip.enforcement}
                  disabled={off}
                  onChange={(e) => setWip({ ...wip, enforcement: e.target.value as keyof typeof ENFORCEMENT })}
                >
                  {Object.entries(ENFORCEMENT).map(([k, v]) => (
                    <option key={k} value={k}>
                      {v}
                    </option>
                  ))}
                </select>
              )}
            </Field>
            <Field
              label="Allowed apps"
              hint="One Store app per line: publisher, then optionally | product name (required unless enforcement is off)"
            >
              {(f) => (
                <textarea
                  {...f}
                  rows={3}
                  className="mono"
                  value={wip.apps}
                  disabled={off}
                  onChange={(e) => setWip({ ...wip, apps: e.target.value })}
                />
              )}
            </Field>
            {(
              [
                ['protectedDomains', 'Further protected domains'],
                ['networkDomains', 'Enterprise network domains'],
                ['ipRanges', 'Enterprise IP ranges'],
                ['cloudResources', 'Enterprise cloud resources'],
              ] as const
            ).map(([k, label]) => (
              <Field key={k} label={label} hint="Separated by commas; optional">
                {(f) => <input {...f} value={wip[k]} disabled={off} onChange={(e) => setWip({ ...wip, [k]: e.target.value })} />}
              </Field>
            ))}
          </div>
        )}
        <div className="actions">
          <ActButton a={a} submit>
            Create profile
          </ActButton>
        </div>
      </form>
    </section>
  );
}

/** Configuration profiles: name, type and scope; each links to its page. */
export function ProfilesPage() {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<Page<Profile> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const cursor = cursors.at(-1);

  useEffect(() => {
    let live = true;
    get<Page<Profile>>('/profiles', { limit: 50, cursor })
      .then((p) => live && setPage(p))
      .catch((e: unknown) => live && setError(errorText(e)));
    return () => {
      live = false;
    };
  }, [cursor]);

  const next = page?.nextCursor;
  return (
    <>
      <Status error={error}>{null}</Status>
      <DataTable
        caption={`Profiles, page ${cursors.length}`}
        rows={page?.items ?? []}
        loading={page === null && !error}
        rowKey={(p) => p.id}
        empty="No profiles yet: create one below."
        columns={[
          { header: 'Name', cell: (p) => <Link to={`profiles/${encodeURIComponent(p.name)}`}>{p.name}</Link> },
          { header: 'Type', cell: (p) => (p.type === 'wip' ? 'Windows Information Protection' : 'Custom (OMA-URI)') },
          { header: 'Scope', cell: (p) => (p.scope === 'user' ? 'User' : 'Device') },
          { header: 'Settings', numeric: true, cell: (p) => p.settings.length },
          { header: 'Version', numeric: true, cell: (p) => p.version },
          { header: 'Changed', cell: (p) => <When iso={p.updatedAt} /> },
        ]}
        onNext={next ? () => setCursors([...cursors, next]) : undefined}
        onPrevious={cursors.length > 1 ? () => setCursors(cursors.slice(0, -1)) : undefined}
        pageLabel={`Page ${cursors.length}`}
      />
      <CreateProfile />
    </>
  );
}

type Intent = 'required' | 'available';
const INTENT_TEXT: Record<Intent, string> = { required: 'Required', available: 'Available' };
/** The API's assignment, with its intent (required: pushed to devices; available: offered in the Company Portal). */
type Assignment = ProfileDetail['assignments'][number] & { intent?: Intent };

/** Edit a custom profile's scope and settings (PUT /profiles/{name}); devices converge at their next check-in. */
function EditSettings({ profile, reload }: { profile: ProfileDetail; reload: () => void }) {
  const a = useAction('Settings change');
  const off = !!a.why;
  const [scope, setScope] = useState<'device' | 'user'>(profile.scope);
  const [rows, setRows] = useState<Row[]>(
    profile.settings.map((x) => ({ path: x.path, format: x.format as Row['format'], value: x.value })),
  );
  const submit = (e: FormEvent) => {
    e.preventDefault();
    void a.run(
      `Settings of ${profile.name} saved. Assigned devices get the change at their next check-in.`,
      () => put(`/profiles/${enc(profile.name)}`, { type: 'custom', scope, settings: rows }),
      reload,
    );
  };
  return (
    <section aria-labelledby="profile-edit">
      <h2 id="profile-edit">Edit settings</h2>
      <ReadOnlyNote why={a.why} />
      {a.view}
      <form aria-labelledby="profile-edit" onSubmit={submit}>
        <ScopeField scope={scope} setScope={setScope} off={off} />
        <SettingRows rows={rows} setRows={setRows} off={off} />
        <div className="actions">
          <ActButton a={a} submit>
            Save settings
          </ActButton>
        </div>
      </form>
    </section>
  );
}

/** Delete the profile, after a confirmation; devices remove its settings at their next check-in. */
function DeleteProfile({ name }: { name: string }) {
  const a = useAction('Profile deletion');
  return (
    <section aria-labelledby="profile-delete">
      <h2 id="profile-delete">Delete</h2>
      <ReadOnlyNote why={a.why} />
      {a.view}
      <p>Deleting the profile removes its assignments; every device that has it removes its settings at its next check-in.</p>
      <div className="actions">
        <ActButton
          a={a}
          kind="danger"
          onClick={() =>
            a.confirm(
              {
                title: `Delete ${name}?`,
                body: <p>Its assignments go with it, and devices remove its settings at their next check-in. This cannot be undone.</p>,
                label: 'Delete profile',
              },
              `Profile ${name} deleted.`,
              () => del(`/profiles/${enc(name)}`),
              () => navigate('profiles'),
            )
          }
        >
          Delete profile
        </ActButton>
      </div>
    </section>
  );
}

/** One profile: its settings (or the WIP fields they were compiled from), its assignments, editing and deletion. */
export function ProfilePage({ name }: { name: string }) {
  const {
    data: profile,
    error,
    reload,
  } = useLoad(() => get<ProfileDetail & { assignments: Assignment[] }>(`/profiles/${encodeURIComponent(name)}`), [name]);
  const groups = useLoad(() => getAll<Group>('/groups'), []);
  const a = useAction('Assignment change');
  const off = !!a.why;
  const [kind, setKind] = useState<'group' | 'device'>('group');
  const [group, setGroup] = useState('');
  const [device, setDevice] = useState('');
  const [intent, setIntent] = useState<Intent>('required');
  const target = kind === 'group' ? group || groups.data?.[0]?.name || '' : device.trim();
  // Available profiles are offered to users, so only a group can get one.
  const chosenIntent: Intent = kind === 'group' ? intent : 'required';
  const assign = (e: FormEvent) => {
    e.preventDefault();
    void a.run(
      `Assigned to ${kind} ${target} as ${INTENT_TEXT[chosenIntent].toLowerCase()}.`,
      () =>
        post(
          `/profiles/${enc(name)}/assignments`,
          kind === 'group' ? { group: target, intent: chosenIntent } : { device: target, intent: chosenIntent },
        ),
      reload,
    );
  };

  if (!profile) return <Status error={error}>Loading…</Status>;
  return (
    <>
      <p>
        <Link to="profiles">All profiles</Link>
      </p>
      <section aria-labelledby="profile-about">
        <h2 id="profile-about">{profile.name}</h2>
        <dl className="props">
          <dt>Type</dt>
          <dd>{profile.type === 'wip' ? 'Windows Information Protection' : 'Custom (OMA-URI)'}</dd>
          <dt>Scope</dt>
          <dd>{profile.scope === 'user' ? 'User' : 'Device'}</dd>
          <dt>Version</dt>
          <dd>{profile.version}</dd>
          <dt>Changed</dt>
          <dd>
            <When iso={profile.updatedAt} />
          </dd>
        </dl>
      </section>
      {profile.wip ? (
        <section aria-labelledby="profile-wip">
          <h2 id="profile-wip">Windows Information Protection fields</h2>
          <dl className="props">
            {Object.entries(profile.wip).map(([k, v]) => [
              <dt key={`${k}-t`}>{k}</dt>,
              <dd key={`${k}-d`} className="mono">
                {Array.isArray(v) ? v.join(', ') : typeof v === 'object' ? JSON.stringify(v) : String(v)}
              </dd>,
            ])}
          </dl>
        </section>
      ) : null}
      <section aria-labelledby="profile-settings">
        <h2 id="profile-settings">Settings</h2>
        <DataTable
          caption={`Settings of ${profile.name}`}
          rows={profile.settings}
          rowKey={(s) => s.path}
          empty="No settings."
          columns={[
            { header: 'OMA-URI', cell: (s) => <span className="mono">{s.path}</span> },
            { header: 'Format', cell: (s) => s.format },
            { header: 'Value', cell: (s) => <span className="mono">{s.value.length > 120 ? `${s.value.slice(0, 120)}…` : s.value}</span> },
          ]}
        />
      </section>
      <section aria-labelledby="profile-assignments">
        <h2 id="profile-assignments">Assignments</h2>
        <DataTable
          caption={`Assignments of ${profile.name}`}
          rows={profile.assignments}
          rowKey={(a) => `${a.kind}:${a.group ?? a.device}`}
          empty="Not assigned: no device gets this profile."
          columns={[
            { header: 'Kind', cell: (a) => <Badge tone="info">{a.kind === 'group' ? 'Group' : 'Device'}</Badge> },
            {
              header: 'Target',
              cell: (a) =>
                a.kind === 'device' && a.device ? <Link to={`devices/${encodeURIComponent(a.device)}`}>{a.device}</Link> : a.group,
            },
            {
              header: 'Intent',
              cell: (x) => <Badge tone={x.intent === 'available' ? 'neutral' : 'info'}>{INTENT_TEXT[x.intent ?? 'required']}</Badge>,
            },
            {
              header: 'Change',
              cell: (x) => {
                const t = (x.kind === 'group' ? x.group : x.device) ?? '';
                return (
                  <ActButton
                    a={a}
                    kind="plain"
                    label={`Unassign from ${t}`}
                    onClick={() =>
                      a.confirm(
                        {
                          title: `Unassign ${profile.name} from ${t}?`,
                          body: <p>Devices remove its settings at their next check-in.</p>,
                          label: 'Unassign',
                        },
                        `Unassigned from ${x.kind} ${t}.`,
                        () => del(`/profiles/${enc(name)}/assignments/${x.kind}/${enc(t)}`),
                        reload,
                      )
                    }
                  >
                    Unassign
                  </ActButton>
                );
              },
            },
          ]}
        />
        {a.view}
        <ReadOnlyNote why={a.why} />
        <form className="filters" aria-label="Assign the profile" onSubmit={assign}>
          <Field label="Assign to">
            {(f) => (
              <select {...f} value={kind} disabled={off} onChange={(e) => setKind(e.target.value as 'group' | 'device')}>
                <option value="group">A group</option>
                <option value="device">A device</option>
              </select>
            )}
          </Field>
          {kind === 'group' ? (
            <Field label="Group">
              {(f) => (
                <select {...f} value={target} disabled={off} onChange={(e) => setGroup(e.target.value)}>
                  {(groups.data ?? []).map((g) => (
                    <option key={g.id} value={g.name}>
                      {g.name}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ) : (
            <Field label="DeviceID">
              {(f) => <input {...f} required className="mono" value={device} disabled={off} onChange={(e) => setDevice(e.target.value)} />}
            </Field>
          )}
          <Field
            label="Intent"
            hint={
              kind === 'group'
                ? 'Available: members install it themselves from the Company Portal'
                : 'A device assignment is always required'
            }
          >
            {(f) => (
              <select {...f} value={chosenIntent} disabled={off || kind === 'device'} onChange={(e) => setIntent(e.target.value as Intent)}>
                <option value="required">Required</option>
                <option value="available">Available</option>
              </select>
            )}
          </Field>
          <div className="actions">
            <ActButton a={a} submit>
              Assign
            </ActButton>
          </div>
        </form>
      </section>
      {profile.type === 'custom' ? (
        <EditSettings key={profile.name} profile={profile} reload={reload} />
      ) : (
        <section aria-labelledby="profile-edit">
          <h2 id="profile-edit">Edit settings</h2>
          <p className="muted">
            A Windows Information Protection profile is compiled from its fields: create it again under the same name (on the Profiles page)
            to change them.
          </p>
        </section>
      )}
      <DeleteProfile name={profile.name} />
    </>
  );
}
