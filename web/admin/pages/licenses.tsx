/**
 * Licenses: seats, group assignments with their member counts, direct assignments, and (for administrators)
 * assign / unassign to a user or a group. Read-only admins see the controls disabled with the reason.
 */
import { type FormEvent, useState } from 'react';
import { del, errorText, get, put } from '../../shared/api.ts';
import { DataTable, Field, When } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import { Link } from '../../shared/router.tsx';
import { useSession } from '../app.tsx';
import { useLoad } from './users.tsx';

interface Overview {
  assigned: number;
  seats: number | null;
  available: number | null;
  direct: number;
  throughGroups: number;
  withoutSeat: number;
  groups: { group: string; groupId: string; assignedAt: string; memberCount: number; licensedCount: number }[];
  items: { userId: string; upn: string; assignedAt: string }[];
  nextCursor: string | null;
}

export function adminOnlyReason(role: string): string | undefined {
  return role === 'administrator' ? undefined : 'Only administrators may change this; your role may look.';
}

export function LicensesPage() {
  const session = useSession();
  const why = adminOnlyReason(session.role);
  const { data, error, reload } = useLoad(() => get<Overview>('/licenses', { limit: 200 }), []);
  const [kind, setKind] = useState<'user' | 'group'>('user');
  const [target, setTarget] = useState('');
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ error: string | null; ok: string | null }>({ error: null, ok: null });

  const change = async (method: 'assign' | 'unassign', k: 'user' | 'group', name: string) => {
    setBusy(true);
    setMsg({ error: null, ok: null });
    const path = k === 'user' ? `/licenses/${encodeURIComponent(name)}` : `/licenses/groups/${encodeURIComponent(name)}`;
    try {
      if (method === 'assign') await put(path);
      else await del(path);
      setMsg({ error: null, ok: `${method === 'assign' ? 'Assigned to' : 'Removed from'} ${k} ${name}.` });
      reload();
    } catch (e) {
      setMsg({ error: errorText(e), ok: null });
    } finally {
      setBusy(false);
    }
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (target.trim()) void change('assign', kind, target.trim());
  };

  return (
    <>
      <Status error={error}>{data ? null : 'Loading…'}</Status>
      {data ? (
        <ul className="cards" aria-label="License counts">
          <li className="card">
            <span className="value">{data.assigned}</span>
            <span className="label">Licensed users</span>
          </li>
          <li className="card">
            <span className="value">{data.seats ?? 'Unlimited'}</span>
            <span className="label">Seats</span>
          </li>
          <li className="card">
            <span className="value">{data.available ?? 'Unlimited'}</span>
            <span className="label">Available</span>
          </li>
          <li className="card">
            <span className="value">{data.withoutSeat}</span>
            <span className="label">Group members without a seat</span>
          </li>
        </ul>
      ) : null}
      <section aria-labelledby="assign">
        <h2 id="assign">Assign a license</h2>
        {why ? <p className="muted">{why}</p> : null}
        <form className="filters" onSubmit={submit}>
          <Field label="Assign to">
            {(a) => (
              <select {...a} value={kind} disabled={why !== undefined} onChange={(e) => setKind(e.target.value as 'user' | 'group')}>
                <option value="user">A user</option>
                <option value="group">A group</option>
              </select>
            )}
          </Field>
          <Field label={kind === 'user' ? 'User (UPN)' : 'Group name'}>
            {(a) => <input {...a} value={target} disabled={why !== undefined} onChange={(e) => setTarget(e.target.value)} />}
          </Field>
          <div className="actions">
            <button type="submit" className="button-primary" disabled={why !== undefined || busy} title={why}>
              Assign
            </button>
          </div>
        </form>
        <Status error={msg.error}>{msg.ok}</Status>
      </section>
      <DataTable
        caption="Group assignments"
        loading={!data && !error}
        rows={data?.groups ?? []}
        rowKey={(g) => g.groupId}
        empty="No group has a license."
        columns={[
          { header: 'Group', cell: (g) => g.group },
          { header: 'Members', cell: (g) => g.memberCount, numeric: true },
          { header: 'Licensed', cell: (g) => g.licensedCount, numeric: true },
          { header: 'Assigned', cell: (g) => <When iso={g.assignedAt} /> },
          {
            header: 'Action',
            cell: (g) => (
              <button
                type="button"
                disabled={why !== undefined || busy}
                title={why}
                aria-label={`Unassign ${g.group}`}
                onClick={() => void change('unassign', 'group', g.group)}
              >
                Unassign
              </button>
            ),
          },
        ]}
      />
      <DataTable
        caption="Direct assignments"
        loading={!data && !error}
        rows={data?.items ?? []}
        rowKey={(l) => l.userId}
        empty="No user has a direct license."
        columns={[
          { header: 'User', cell: (l) => <Link to={`users/${encodeURIComponent(l.upn)}`}>{l.upn}</Link> },
          { header: 'Assigned', cell: (l) => <When iso={l.assignedAt} /> },
          {
            header: 'Action',
            cell: (l) => (
              <button
                type="button"
                disabled={why !== undefined || busy}
                title={why}
                aria-label={`Unassign ${l.upn}`}
                onClick={() => void change('unassign', 'user', l.upn)}
              >
                Unassign
              </button>
            ),
          },
        ]}
      />
    </>
  );
}
