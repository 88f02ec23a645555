import { useEffect, useState } from 'react';
import { errorText, get, type Page } from '../../shared/api.ts';
import { Badge, DataTable, When } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import { Link } from '../../shared/router.tsx';
import type { Profile, ProfileDetail } from '../setup-types.ts';

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
        empty="No profiles yet (create them with the CLI or PUT /api/v1/profiles/{name})."
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
    </>
  );
}

/** One profile: its settings (or the WIP fields they were compiled from) and its assignments. */
export function ProfilePage({ name }: { name: string }) {
  const [profile, setProfile] = useState<ProfileDetail | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    get<ProfileDetail>(`/profiles/${encodeURIComponent(name)}`)
      .then(setProfile)
      .catch((e: unknown) => setError(errorText(e)));
  }, [name]);

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
          ]}
        />
      </section>
    </>
  );
}
