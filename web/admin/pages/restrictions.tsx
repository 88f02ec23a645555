/** Enrollment restrictions: platform policies and device limits, by priority, with their settings and groups. */
import { type FormEvent, useState } from 'react';
import { del, patch, post, put } from '../../shared/api.ts';
import { Badge, DataTable, Field, When } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import { GroupSelect } from './group-select.tsx';
import { ActButton, type Action, enc, ReadOnlyNote, useAction } from './edit-kit.tsx';
import { type Group, getAll, useLoad } from './users.tsx';

interface Restriction {
  id: string;
  type: 'platform' | 'deviceLimit';
  name: string;
  priority: number | null;
  isDefault: boolean;
  config:
    | { windowsMdm: 'allow' | 'block'; minOsVersion: string | null; maxOsVersion: string | null; blockPersonal: boolean }
    | { limit: number };
  groups: { id: string; name: string }[];
  updatedAt: string;
}

function settingsText(r: Restriction): string {
  const c = r.config;
  if ('limit' in c) return `Up to ${c.limit} device${c.limit === 1 ? '' : 's'} per user`;
  const parts = [`Windows MDM ${c.windowsMdm === 'allow' ? 'allowed' : 'blocked'}`];
  if (c.minOsVersion || c.maxOsVersion) parts.push(`Windows ${c.minOsVersion ?? 'any'} to ${c.maxOsVersion ?? 'any'}`);
  parts.push(c.blockPersonal ? 'personal devices blocked' : 'personal devices allowed');
  return parts.join('; ');
}

interface Draft {
  name: string;
  limit: string;
  windowsMdm: 'allow' | 'block';
  minOsVersion: string;
  maxOsVersion: string;
  blockPersonal: boolean;
}
const EMPTY: Draft = { name: '', limit: '5', windowsMdm: 'allow', minOsVersion: '', maxOsVersion: '', blockPersonal: false };

function draftOf(r: Restriction): Draft {
  const c = r.config;
  return 'limit' in c
    ? { ...EMPTY, name: r.name, limit: String(c.limit) }
    : {
        ...EMPTY,
        name: r.name,
        windowsMdm: c.windowsMdm,
        minOsVersion: c.minOsVersion ?? '',
        maxOsVersion: c.maxOsVersion ?? '',
        blockPersonal: c.blockPersonal,
      };
}

function configOf(type: Restriction['type'], d: Draft) {
  return type === 'deviceLimit'
    ? { limit: Number(d.limit) }
    : {
        windowsMdm: d.windowsMdm,
        minOsVersion: d.minOsVersion || null,
        maxOsVersion: d.maxOsVersion || null,
        blockPersonal: d.blockPersonal,
      };
}

/** The settings fields of one restriction type. */
function SettingsFields({ type, d, set, off }: { type: Restriction['type']; d: Draft; set: (d: Draft) => void; off: boolean }) {
  if (type === 'deviceLimit')
    return (
      <Field label="Device limit" hint="Devices per user, 1 to 15">
        {(f) => (
          <input
            {...f}
            type="number"
            min={1}
            max={15}
            required
            value={d.limit}
            disabled={off}
            onChange={(e) => set({ ...d, limit: e.target.value })}
          />
        )}
      </Field>
    );
  return (
    <>
      <Field label="Windows MDM enrollment">
        {(f) => (
          <select
            {...f}
            value={d.windowsMdm}
            disabled={off}
            onChange={(e) => set({ ...d, windowsMdm: e.target.value as Draft['windowsMdm'] })}
          >
            <option value="allow">Allow</option>
            <option value="block">Block</option>
          </select>
        )}
      </Field>
      <Field label="Lowest Windows version" hint="e.g. 10.0.19045.0; empty for no bound">
        {(f) => <input {...f} value={d.minOsVersion} disabled={off} onChange={(e) => set({ ...d, minOsVersion: e.target.value })} />}
      </Field>
      <Field label="Highest Windows version" hint="Empty for no bound">
        {(f) => <input {...f} value={d.maxOsVersion} disabled={off} onChange={(e) => set({ ...d, maxOsVersion: e.target.value })} />}
      </Field>
      <div className="field">
        <label>
          <input
            type="checkbox"
            checked={d.blockPersonal}
            disabled={off}
            onChange={(e) => set({ ...d, blockPersonal: e.target.checked })}
          />{' '}
          Block personally owned devices
        </label>
      </div>
    </>
  );
}

function Editor({ r, groups, a, reload, close }: { r: Restriction; groups: Group[]; a: Action; reload: () => void; close: () => void }) {
  const [d, setD] = useState<Draft>(draftOf(r));
  const [priority, setPriority] = useState(String(r.priority ?? 1));
  const [group, setGroup] = useState(groups.find((g) => !r.groups.some((x) => x.id === g.id))?.name ?? groups[0]?.name ?? '');
  const base = `/restrictions/${r.type}/${enc(r.name)}`;
  const off = !!a.why;
  const save = (e: FormEvent) => {
    e.preventDefault();
    void a.run(
      `Restriction ${d.name} saved.`,
      () => patch(base, { ...(d.name !== r.name && !r.isDefault ? { name: d.name } : {}), ...configOf(r.type, d) }),
      () => {
        reload();
        close();
      },
    );
  };
  return (
    <section aria-labelledby="edit-restriction">
      <h2 id="edit-restriction">Edit “{r.name}”</h2>
      <form className="narrow" aria-labelledby="edit-restriction" onSubmit={save}>
        {r.isDefault ? null : (
          <Field label="Name">
            {(f) => <input {...f} required value={d.name} disabled={off} onChange={(e) => setD({ ...d, name: e.target.value })} />}
          </Field>
        )}
        <SettingsFields type={r.type} d={d} set={setD} off={off} />
        <div className="actions">
          <ActButton a={a} submit>
            Save changes
          </ActButton>
          <button type="button" onClick={close}>
            Close
          </button>
        </div>
      </form>
      {r.isDefault ? (
        <p className="muted">
          The default applies to everyone no other restriction of its type covers; it has no priority or groups and cannot be deleted.
        </p>
      ) : (
        <>
          <form
            className="filters"
            aria-label="Change the priority"
            onSubmit={(e) => {
              e.preventDefault();
              void a.run(`${r.name} moved to priority ${priority}.`, () => put(`${base}/priority`, { priority: Number(priority) }), reload);
            }}
          >
            <Field label="Priority" hint="1 is highest">
              {(f) => <input {...f} type="number" min={1} value={priority} disabled={off} onChange={(e) => setPriority(e.target.value)} />}
            </Field>
            <div className="actions">
              <ActButton a={a} submit>
                Move
              </ActButton>
            </div>
          </form>
          <form
            className="filters"
            aria-label="Assign to a group"
            onSubmit={(e) => {
              e.preventDefault();
              void a.run(`${r.name} assigned to ${group}.`, () => put(`${base}/groups/${enc(group)}`), reload);
            }}
          >
            <GroupSelect label="Group" groups={groups} value={group} disabled={off} onChange={setGroup} />
            <div className="actions">
              <ActButton a={a} submit>
                Assign
              </ActButton>
            </div>
          </form>
          {r.groups.length > 0 ? (
            <ul aria-label={`Groups of ${r.name}`}>
              {r.groups.map((g) => (
                <li key={g.id}>
                  {g.name}{' '}
                  <ActButton
                    a={a}
                    kind="plain"
                    label={`Unassign ${r.name} from ${g.name}`}
                    onClick={() =>
                      a.confirm(
                        {
                          title: `Unassign ${r.name} from ${g.name}?`,
                          body: <p>Members of {g.name} fall back to a lower restriction or the default.</p>,
                          label: 'Unassign',
                        },
                        `${r.name} unassigned from ${g.name}.`,
                        () => del(`${base}/groups/${enc(g.name)}`),
                        reload,
                      )
                    }
                  >
                    Unassign
                  </ActButton>
                </li>
              ))}
            </ul>
          ) : null}
          <div className="actions">
            <ActButton
              a={a}
              kind="danger"
              onClick={() =>
                a.confirm(
                  {
                    title: `Delete ${r.name}?`,
                    body: <p>The restrictions below it move up; its groups fall back to the next one or the default.</p>,
                    label: 'Delete restriction',
                  },
                  `Restriction ${r.name} deleted.`,
                  () => del(base),
                  () => {
                    reload();
                    close();
                  },
                )
              }
            >
              Delete restriction
            </ActButton>
          </div>
        </>
      )}
    </section>
  );
}

export function RestrictionsPage() {
  const { data, error, reload } = useLoad(() => Promise.all([getAll<Restriction>('/restrictions'), getAll<Group>('/groups')]), []);
  const a = useAction('Restriction change');
  const [editing, setEditing] = useState<string | null>(null);
  const [type, setType] = useState<Restriction['type']>('deviceLimit');
  const [d, setD] = useState<Draft>(EMPTY);
  const all = data?.[0];
  const groups = data?.[1] ?? [];
  const current = all?.find((r) => r.id === editing);
  const create = (e: FormEvent) => {
    e.preventDefault();
    void a.run(
      `Restriction ${d.name} added; assign it to a group for it to take effect.`,
      () => post('/restrictions', { type, name: d.name, ...configOf(type, d) }),
      () => {
        setD(EMPTY);
        reload();
      },
    );
  };
  const table = (t: Restriction['type'], caption: string) => (
    <DataTable
      caption={caption}
      loading={!data && !error}
      rows={(all ?? []).filter((r) => r.type === t)}
      rowKey={(r) => r.id}
      empty="None."
      columns={[
        { header: 'Priority', cell: (r) => (r.isDefault ? <Badge tone="neutral">Default</Badge> : r.priority), numeric: true },
        { header: 'Name', cell: (r) => r.name },
        { header: 'Settings', cell: settingsText },
        {
          header: 'Assigned to',
          cell: (r) =>
            r.isDefault ? (
              'Everyone else'
            ) : r.groups.length ? (
              r.groups.map((g) => g.name).join(', ')
            ) : (
              <span className="muted">No groups</span>
            ),
        },
        { header: 'Changed', cell: (r) => <When iso={r.updatedAt} /> },
        {
          header: 'Change',
          cell: (r) => (
            <button type="button" aria-label={`${a.why ? 'Details of' : 'Edit'} ${r.name}`} onClick={() => setEditing(r.id)}>
              {a.why ? 'Details' : 'Edit'}
            </button>
          ),
        },
      ]}
    />
  );
  return (
    <>
      <p>The highest-priority restriction (1 = highest) assigned to one of the user’s groups applies; otherwise the default.</p>
      <Status error={error}>{data ? null : 'Loading…'}</Status>
      {table('platform', 'Platform restrictions')}
      {table('deviceLimit', 'Device limit restrictions')}
      {a.view}
      <ReadOnlyNote why={a.why} />
      {current ? (
        <Editor
          key={`${current.id}:${current.updatedAt}`}
          r={current}
          groups={groups}
          a={a}
          reload={reload}
          close={() => setEditing(null)}
        />
      ) : null}
      <section aria-labelledby="add-restriction">
        <h2 id="add-restriction">Add a restriction</h2>
        <form className="narrow" aria-labelledby="add-restriction" onSubmit={create}>
          <Field label="Type">
            {(f) => (
              <select {...f} value={type} disabled={!!a.why} onChange={(e) => setType(e.target.value as Restriction['type'])}>
                <option value="deviceLimit">Device limit</option>
                <option value="platform">Platform</option>
              </select>
            )}
          </Field>
          <Field label="Restriction name">
            {(f) => (
              <input
                {...f}
                required
                maxLength={128}
                value={d.name}
                disabled={!!a.why}
                onChange={(e) => setD({ ...d, name: e.target.value })}
              />
            )}
          </Field>
          <SettingsFields type={type} d={d} set={setD} off={!!a.why} />
          <div className="actions">
            <ActButton a={a} submit>
              Add restriction
            </ActButton>
          </div>
        </form>
      </section>
    </>
  );
}
