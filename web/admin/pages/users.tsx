/**
 * Users and groups: a searchable user list, a user page (enabled state, license and where it comes from,
 * devices, and what enrollment would give on a personal and on a corporate device, from POST /explain),
 * and the list of groups. Everything from /api/v1.
 */
import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { del, errorText, get, type Page, patch, post } from '../../shared/api.ts';
import { Badge, DataTable, Field, When } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import { Link, navigate } from '../../shared/router.tsx';
import type { Device } from '../types.ts';
import { GroupSelect } from './group-select.tsx';
import { ActButton, type Action, enc, ReadOnlyNote, useAction } from './edit-kit.tsx';

export interface User {
  id: string;
  upn: string;
  displayName: string | null;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
}
export interface Group {
  id: string;
  name: string;
  createdAt: string;
}
interface EffectiveLicense {
  upn: string;
  licensed: boolean;
  direct: boolean;
  groupPath: string[];
  beyondSeats: boolean;
  reason: string;
}
interface Explanation {
  outcome: 'mdm' | 'mam' | 'refused';
  ownership: 'corporate' | 'personal';
  ownershipRule: string;
  reasons: string[];
  errorType: string | null;
  userMessage: string | null;
  policies: { platform: string; deviceLimit: string };
}

/** Every page of a list (the console's lists are small enough for the users and groups of one tenant). */
export async function getAll<T>(path: string): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  for (let i = 0; i < 100; i++) {
    const p: Page<T> = await get<Page<T>>(path, { limit: 200, cursor });
    out.push(...p.items);
    if (!p.nextCursor) break;
    cursor = p.nextCursor;
  }
  return out;
}

export interface GroupMembers {
  users: { id: string; upn: string }[];
  groups: { id: string; name: string }[];
}
export interface GroupWithMembers extends Group {
  members: GroupMembers;
}

/** Every group with its direct members (one request per group). */
export async function groupsWithMembers(): Promise<GroupWithMembers[]> {
  const groups = await getAll<Group>('/groups');
  return Promise.all(
    groups.map(async (g) => ({ ...g, members: await get<GroupMembers>(`/groups/${encodeURIComponent(g.name)}/members`) })),
  );
}

/** The groups a user is in: directly, then through nesting (each with the group it came through). */
export function groupsOf(upn: string, all: GroupWithMembers[]): { name: string; via: string | null }[] {
  const out = new Map<string, string | null>();
  const queue: string[] = [];
  for (const g of all)
    if (g.members.users.some((u) => u.upn.toLowerCase() === upn.toLowerCase())) {
      out.set(g.name, null);
      queue.push(g.name);
    }
  while (queue.length > 0) {
    const child = queue.shift() as string;
    for (const g of all)
      if (!out.has(g.name) && g.members.groups.some((c) => c.name === child)) {
        out.set(g.name, child);
        queue.push(g.name);
      }
  }
  return [...out].map(([name, via]) => ({ name, via }));
}

export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | null; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [n, setN] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: the caller names the dependencies
  useEffect(() => {
    let live = true;
    setError(null);
    load()
      .then((d) => {
        if (live) setData(d);
      })
      .catch((e: unknown) => {
        if (live) setError(errorText(e));
      });
    return () => {
      live = false;
    };
  }, [...deps, n]);
  return { data, error, reload: () => setN((x) => x + 1) };
}

export function UsersPage() {
  const initial = new URLSearchParams(window.location.search).get('q') ?? '';
  const [q, setQ] = useState(initial);
  const [draft, setDraft] = useState(initial);
  const { data, error, reload } = useLoad(() => getAll<User>('/users'), []);
  const a = useAction('User change');
  const [nu, setNu] = useState({ upn: '', displayName: '', password: '' });
  const addUser = (e: FormEvent) => {
    e.preventDefault();
    void a.run(
      `User ${nu.upn} added.`,
      () => post('/users', { upn: nu.upn, password: nu.password, displayName: nu.displayName || null }),
      () => {
        setNu({ upn: '', displayName: '', password: '' });
        reload();
      },
    );
  };
  const toggle = (u: User) =>
    u.enabled
      ? a.confirm(
          {
            title: `Disable ${u.upn}?`,
            body: <p>A disabled user cannot sign in or enroll; their enrolled devices stay enrolled.</p>,
            label: 'Disable user',
          },
          `User ${u.upn} disabled.`,
          () => patch(`/users/${enc(u.upn)}`, { enabled: false }),
          reload,
        )
      : void a.run(`User ${u.upn} enabled.`, () => patch(`/users/${enc(u.upn)}`, { enabled: true }), reload);
  const needle = q.trim().toLowerCase();
  const rows = (data ?? []).filter(
    (u) => needle === '' || u.upn.toLowerCase().includes(needle) || (u.displayName ?? '').toLowerCase().includes(needle),
  );
  const search = (e: FormEvent) => {
    e.preventDefault();
    setQ(draft);
    navigate(draft ? `users?q=${encodeURIComponent(draft)}` : 'users', { replace: true });
  };
  return (
    <>
      <p>
        People who sign in and enroll devices. See also <Link to="groups">groups</Link>.
      </p>
      <form className="filters" aria-label="User search" onSubmit={search}>
        <Field label="Search users" hint="Part of a UPN or name">
          {(a) => <input {...a} type="search" value={draft} onChange={(e) => setDraft(e.target.value)} />}
        </Field>
        <div className="actions">
          <button type="submit" className="button-primary">
            Search
          </button>
        </div>
      </form>
      <Status error={error}>{data ? null : 'Loading…'}</Status>
      <DataTable
        caption={needle ? `Users matching “${q}”` : 'Users'}
        loading={!data && !error}
        rows={rows}
        rowKey={(u) => u.id}
        empty="No users."
        columns={[
          { header: 'User', cell: (u) => <Link to={`users/${encodeURIComponent(u.upn)}`}>{u.upn}</Link> },
          { header: 'Name', cell: (u) => u.displayName ?? <span className="muted">—</span> },
          { header: 'State', cell: (u) => (u.enabled ? <Badge tone="ok">Enabled</Badge> : <Badge tone="bad">Disabled</Badge>) },
          { header: 'Added', cell: (u) => <When iso={u.createdAt} /> },
          {
            header: 'Change',
            cell: (u) => (
              <ActButton
                a={a}
                kind={u.enabled ? 'danger' : 'plain'}
                label={`${u.enabled ? 'Disable' : 'Enable'} ${u.upn}`}
                onClick={() => toggle(u)}
              >
                {u.enabled ? 'Disable' : 'Enable'}
              </ActButton>
            ),
          },
        ]}
      />
      {a.view}
      <section aria-labelledby="add-user">
        <h2 id="add-user">Add a user</h2>
        <ReadOnlyNote why={a.why} />
        <form className="narrow" aria-labelledby="add-user" onSubmit={addUser}>
          <Field label="User principal name" hint="name@domain; the domain must be configured">
            {(f) => <input {...f} required value={nu.upn} disabled={!!a.why} onChange={(e) => setNu({ ...nu, upn: e.target.value })} />}
          </Field>
          <Field label="Display name" hint="Optional">
            {(f) => (
              <input {...f} value={nu.displayName} disabled={!!a.why} onChange={(e) => setNu({ ...nu, displayName: e.target.value })} />
            )}
          </Field>
          <Field label="Initial password" hint="At least 8 characters">
            {(f) => (
              <input
                {...f}
                type="password"
                autoComplete="new-password"
                required
                value={nu.password}
                disabled={!!a.why}
                onChange={(e) => setNu({ ...nu, password: e.target.value })}
              />
            )}
          </Field>
          <div className="actions">
            <ActButton a={a} submit>
              Add user
            </ActButton>
          </div>
        </form>
      </section>
    </>
  );
}

const MODE_NAMES = { mdm: 'MDM (device management)', mam: 'MAM (app protection only)', refused: 'Refused' } as const;

function Preview({ label, e }: { label: string; e: Explanation }) {
  // The deciding scope rule when there is one (later reasons are restriction checks), else the last reason.
  const because = [...e.reasons].reverse().find((r) => /precedence|scope/.test(r)) ?? e.reasons.at(-1) ?? e.ownershipRule;
  return (
    <li>
      <strong>{label}:</strong> <Badge tone={e.outcome === 'refused' ? 'bad' : 'info'}>{MODE_NAMES[e.outcome]}</Badge>, because {because}
      {e.userMessage ? <span className="muted"> (the device shows: {e.userMessage})</span> : null}
      <details>
        <summary>All reasons</summary>
        <ol>
          {e.reasons.map((r) => (
            <li key={r}>{r}</li>
          ))}
        </ol>
        <p className="muted">
          Policies: platform “{e.policies.platform}”, device limit “{e.policies.deviceLimit}”.
        </p>
      </details>
    </li>
  );
}

export function UserPage({ upn }: { upn: string }) {
  const user = useLoad(() => get<User>(`/users/${encodeURIComponent(upn)}`), [upn]);
  const license = useLoad(() => get<EffectiveLicense>(`/licenses/${encodeURIComponent(upn)}`), [upn]);
  const devices = useLoad(() => get<Page<Device>>('/devices', { upn, limit: 200 }), [upn]);
  const preview = useLoad(
    () =>
      Promise.all(
        (['personal', 'corporate'] as const).map((ownership) => post<Explanation>('/explain', { upn, ownership, method: 'automatic' })),
      ),
    [upn],
  );
  const memberships = useLoad(groupsWithMembers, [upn]);
  const u = user.data;
  const l = license.data;
  return (
    <>
      <p>
        <Link to="users">All users</Link>
      </p>
      <Status error={user.error}>{u ? null : 'Loading…'}</Status>
      {u ? (
        <section aria-labelledby="user-props">
          <h2 id="user-props">{u.upn}</h2>
          <dl className="props">
            <dt>Name</dt>
            <dd>{u.displayName ?? '—'}</dd>
            <dt>State</dt>
            <dd>{u.enabled ? <Badge tone="ok">Enabled</Badge> : <Badge tone="bad">Disabled</Badge>}</dd>
            <dt>License</dt>
            <dd>
              {license.error ? (
                license.error
              ) : !l ? (
                'Loading…'
              ) : (
                <>
                  {l.licensed ? <Badge tone="ok">Licensed</Badge> : <Badge tone="warn">No license</Badge>}{' '}
                  {l.direct ? 'assigned directly' : l.groupPath.length > 0 ? `through group ${l.groupPath.join(' → ')}` : ''}
                  <span className="muted"> — {l.reason}</span>
                </>
              )}
            </dd>
            <dt>Groups</dt>
            <dd>
              {memberships.error ??
                (!memberships.data ? (
                  'Loading…'
                ) : groupsOf(u.upn, memberships.data).length === 0 ? (
                  <span className="muted">None</span>
                ) : (
                  <ul aria-label="Groups of this user">
                    {groupsOf(u.upn, memberships.data).map((g) => (
                      <li key={g.name}>
                        {g.name}
                        {g.via ? <span className="muted"> (through {g.via})</span> : null}
                      </li>
                    ))}
                  </ul>
                ))}
            </dd>
            <dt>Added</dt>
            <dd>
              <When iso={u.createdAt} />
            </dd>
          </dl>
        </section>
      ) : null}
      <section aria-labelledby="scope-preview">
        <h2 id="scope-preview">Effective scope preview</h2>
        <p className="muted">What automatic enrollment (join or adding a work account) would give this user now.</p>
        <Status error={preview.error}>{preview.data ? null : 'Loading…'}</Status>
        {preview.data ? (
          <ul aria-label="Scope preview">
            {preview.data[0] ? <Preview label="On a personal device" e={preview.data[0]} /> : null}
            {preview.data[1] ? <Preview label="On a corporate device" e={preview.data[1]} /> : null}
          </ul>
        ) : null}
      </section>
      <section aria-labelledby="user-devices">
        <h2 id="user-devices">Devices</h2>
        <Status error={devices.error}>{null}</Status>
        <DataTable
          caption={`Devices of ${upn}`}
          loading={!devices.data && !devices.error}
          rows={devices.data?.items ?? []}
          rowKey={(d) => d.deviceId}
          empty="No devices."
          columns={[
            { header: 'Device', cell: (d) => <Link to={`devices/${encodeURIComponent(d.deviceId)}`}>{d.deviceName ?? d.deviceId}</Link> },
            { header: 'Ownership', cell: (d) => d.ownership },
            { header: 'Mode', cell: (d) => d.managementMode.toUpperCase() },
            { header: 'Status', cell: (d) => d.status },
          ]}
        />
      </section>
    </>
  );
}

/** A group's users or nested groups, each with its Remove button ("None" when empty). */
function MemberList(props: {
  label: string;
  group: string;
  a: Action;
  members: { id: string; name: string; shown: ReactNode }[];
  onRemove: (name: string) => void;
}) {
  if (props.members.length === 0) return <span className="muted">None</span>;
  return (
    <ul className="members" aria-label={props.label}>
      {props.members.map((m) => (
        <li key={m.id}>
          {m.shown}{' '}
          <ActButton a={props.a} kind="plain" label={`Remove ${m.name} from ${props.group}`} onClick={() => props.onRemove(m.name)}>
            Remove
          </ActButton>
        </li>
      ))}
    </ul>
  );
}

export function GroupsPage() {
  const { data, error, reload } = useLoad(groupsWithMembers, []);
  const a = useAction('Group change');
  const [newGroup, setNewGroup] = useState('');
  const [target, setTarget] = useState('');
  const [member, setMember] = useState('');
  const group = target || data?.[0]?.name || '';
  const create = (e: FormEvent) => {
    e.preventDefault();
    void a.run(
      `Group ${newGroup} created.`,
      () => post('/groups', { name: newGroup }),
      () => {
        setNewGroup('');
        reload();
      },
    );
  };
  const m = member.trim();
  const isUser = m.includes('@');
  const addMember = (e: FormEvent) => {
    e.preventDefault();
    void a.run(
      isUser ? `${m} added to ${group}.` : `Group ${m} nested in ${group}.`,
      () => (isUser ? post(`/groups/${enc(group)}/members`, { upn: m }) : post(`/groups/${enc(group)}/groups`, { group: m })),
      () => {
        setMember('');
        reload();
      },
    );
  };
  const remove = (g: string, who: string, user: boolean) =>
    a.confirm(
      {
        title: user ? `Remove ${who} from ${g}?` : `Take group ${who} out of ${g}?`,
        body: <p>Profiles, scopes, licenses and restrictions assigned to {g} stop applying through this membership.</p>,
        label: 'Remove',
      },
      user ? `${who} removed from ${g}.` : `Group ${who} taken out of ${g}.`,
      () => del(user ? `/groups/${enc(g)}/members/${enc(who)}` : `/groups/${enc(g)}/groups/${enc(who)}`),
      reload,
    );
  return (
    <>
      <p>
        Groups hold users and other groups (nesting counts transitively) for scopes, licenses and restrictions. See also{' '}
        <Link to="users">users</Link>.
      </p>
      <Status error={error}>{data ? null : 'Loading…'}</Status>
      <DataTable
        caption="Groups"
        loading={!data && !error}
        rows={data ?? []}
        rowKey={(g) => g.id}
        empty="No groups."
        columns={[
          { header: 'Group', cell: (g) => g.name },
          {
            header: 'Users',
            cell: (g) => (
              <MemberList
                label={`Users in ${g.name}`}
                group={g.name}
                a={a}
                members={g.members.users.map((u) => ({
                  id: u.id,
                  name: u.upn,
                  shown: <Link to={`users/${encodeURIComponent(u.upn)}`}>{u.upn}</Link>,
                }))}
                onRemove={(who) => remove(g.name, who, true)}
              />
            ),
          },
          {
            header: 'Nested groups',
            cell: (g) => (
              <MemberList
                label={`Groups in ${g.name}`}
                group={g.name}
                a={a}
                members={g.members.groups.map((c) => ({ id: c.id, name: c.name, shown: c.name }))}
                onRemove={(who) => remove(g.name, who, false)}
              />
            ),
          },
          {
            header: 'Inside',
            cell: (g) => {
              const parents = (data ?? []).filter((p) => p.members.groups.some((c) => c.id === g.id)).map((p) => p.name);
              return parents.length === 0 ? <span className="muted">—</span> : parents.join(', ');
            },
          },
          { header: 'Added', cell: (g) => <When iso={g.createdAt} /> },
        ]}
      />
      {a.view}
      <ReadOnlyNote why={a.why} />
      <section aria-labelledby="create-group">
        <h2 id="create-group">Create a group</h2>
        <form className="narrow" aria-labelledby="create-group" onSubmit={create}>
          <Field label="Group name">
            {(f) => (
              <input {...f} required maxLength={128} value={newGroup} disabled={!!a.why} onChange={(e) => setNewGroup(e.target.value)} />
            )}
          </Field>
          <div className="actions">
            <ActButton a={a} submit>
              Create group
            </ActButton>
          </div>
        </form>
      </section>
      <section aria-labelledby="add-member">
        <h2 id="add-member">Add a member</h2>
        <form className="narrow" aria-labelledby="add-member" onSubmit={addMember}>
          <GroupSelect label="To group" groups={data ?? []} value={group} disabled={!!a.why} onChange={setTarget} />
          <Field label="Member" hint="A user's UPN (with @), or the name of a group to nest">
            {(f) => <input {...f} required value={member} disabled={!!a.why} onChange={(e) => setMember(e.target.value)} />}
          </Field>
          <div className="actions">
            <ActButton a={a} submit>
              Add member
            </ActButton>
          </div>
        </form>
      </section>
    </>
  );
}
