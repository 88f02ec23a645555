/**
 * Apps: the catalog (Store and MSI apps with the lowest Windows build they run on), each app's group
 * assignments (required: installed at check-in; available: from the Company Portal; uninstall: removed at
 * check-in), how many devices have it installed, failed or pending, and for administrators
 * adding an app (its JSON definition), assigning and unassigning. Other roles see the controls disabled.
 */
import { type FormEvent, useState } from 'react';
import { del, errorText, get, post, put } from '../../shared/api.ts';
import { DataTable, Field } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import { useSession } from '../app.tsx';
import { adminOnlyReason } from './licenses.tsx';
import { useLoad } from './users.tsx';

type Intent = 'required' | 'available' | 'uninstall';

interface AppAssignment {
  group: string;
  groupId: string;
  intent: Intent;
  assignedAt: string;
}

interface CatalogApp {
  id: string;
  name: string;
  publisher: string;
  version: string;
  kind: 'store' | 'msi';
  minWindowsBuild: number;
  assignments: AppAssignment[];
  installs: { installed: number; failed: number; pending: number };
}

const EXAMPLE = JSON.stringify(
  {
    name: 'Company Notes',
    publisher: 'Contoso',
    version: '1.0',
    kind: 'store',
    packageFamilyName: 'Contoso.CompanyNotes_8wekyb3d8bbwe',
    storeProductId: '9WZDNCRFJ3PZ',
    minWindowsBuild: 22000,
  },
  null,
  2,
);

export function AppsPage() {
  const session = useSession();
  const why = adminOnlyReason(session.role);
  const { data, error, reload } = useLoad(() => get<{ items: CatalogApp[] }>('/apps'), []);
  const [msg, setMsg] = useState<{ error: string | null; ok: string | null }>({ error: null, ok: null });
  const [busy, setBusy] = useState(false);
  const [definition, setDefinition] = useState(EXAMPLE);
  const [app, setApp] = useState('');
  const [group, setGroup] = useState('');
  const [intent, setIntent] = useState<Intent>('available');

  const act = async (done: string, fn: () => Promise<unknown>) => {
    setBusy(true);
    setMsg({ error: null, ok: null });
    try {
      await fn();
      setMsg({ error: null, ok: done });
      reload();
    } catch (e) {
      setMsg({ error: errorText(e), ok: null });
    } finally {
      setBusy(false);
    }
  };

  const add = (e: FormEvent) => {
    e.preventDefault();
    let body: unknown;
    try {
      body = JSON.parse(definition);
    } catch {
      setMsg({ error: 'The definition is not valid JSON.', ok: null });
      return;
    }
    void act('App added.', () => post('/apps', body));
  };
  const assign = (e: FormEvent) => {
    e.preventDefault();
    const target = app || data?.items[0]?.id || '';
    void act(`Assigned to ${group} as ${intent}.`, () =>
      put(`/apps/${encodeURIComponent(target)}/assignments/${encodeURIComponent(group.trim())}`, { intent }),
    );
  };

  if (!data) return <Status error={error}>Loading apps…</Status>;
  return (
    <>
      <p>
        Required apps are installed on the devices of group members (nested groups included) at their next check-in; available apps are
        offered in the Company Portal on devices whose Windows build meets the app's minimum. Apps Winroll installed because they were
        required are removed when no assignment requires them any more; an uninstall assignment removes the app from members' devices. A
        failed required install is retried automatically (3 attempts at most); retry it on the device's page after that.
      </p>
      {msg.error && (
        <p className="alert alert-error" role="alert">
          {msg.error}
        </p>
      )}
      {msg.ok && (
        <p className="alert alert-info" role="status">
          {msg.ok}
        </p>
      )}
      <DataTable
        caption="Apps"
        rows={data.items}
        rowKey={(a) => a.id}
        empty="No apps yet."
        columns={[
          { header: 'Name', cell: (a) => a.name },
          { header: 'Type', cell: (a) => (a.kind === 'store' ? 'Microsoft Store' : 'MSI') },
          { header: 'Version', cell: (a) => a.version },
          { header: 'Minimum build', numeric: true, cell: (a) => String(a.minWindowsBuild) },
          {
            header: 'Devices',
            cell: (a) => (
              <span>
                {a.installs.installed} installed, {a.installs.failed} failed, {a.installs.pending} pending
              </span>
            ),
          },
          {
            header: 'Assignments',
            cell: (a) =>
              a.assignments.length === 0 ? (
                <span className="muted">Not assigned</span>
              ) : (
                <ul>
                  {a.assignments.map((x) => (
                    <li key={x.groupId}>
                      {x.group} ({x.intent}){' '}
                      <button
                        type="button"
                        className="linkish"
                        disabled={busy || why !== undefined}
                        title={why}
                        aria-label={`Unassign ${a.name} from ${x.group}`}
                        onClick={() =>
                          void act(`Unassigned from ${x.group}.`, () =>
                            del(`/apps/${encodeURIComponent(a.id)}/assignments/${encodeURIComponent(x.group)}`),
                          )
                        }
                      >
                        Unassign
                      </button>
                    </li>
                  ))}
                </ul>
              ),
          },
        ]}
      />
      <h2>Assign an app</h2>
      {why && <p className="muted">{why}</p>}
      <form className="narrow" onSubmit={assign}>
        <Field label="App">
          {(a) => (
            <select {...a} value={app} onChange={(e) => setApp(e.target.value)} disabled={why !== undefined}>
              {data.items.map((x) => (
                <option key={x.id} value={x.id}>
                  {x.name}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Group" hint="The group's name; members of groups nested in it get the app too.">
          {(a) => <input {...a} value={group} onChange={(e) => setGroup(e.target.value)} required disabled={why !== undefined} />}
        </Field>
        <Field label="Intent">
          {(a) => (
            <select {...a} value={intent} onChange={(e) => setIntent(e.target.value as Intent)} disabled={why !== undefined}>
              <option value="available">Available (from the Company Portal)</option>
              <option value="required">Required (installed at check-in)</option>
              <option value="uninstall">Uninstall (removed at check-in)</option>
            </select>
          )}
        </Field>
        <button type="submit" className="button-primary" disabled={busy || why !== undefined || data.items.length === 0}>
          Assign
        </button>
      </form>
      <h2>Add an app</h2>
      <form className="narrow" onSubmit={add}>
        <Field
          label="Definition (JSON)"
          hint='kind "store": packageFamilyName and storeProductId; kind "msi": productCode, downloadUrl (https) and sha256.'
        >
          {(a) => (
            <textarea
              {...a}
              rows={10}
              className="mono"
              value={definition}
              onChange={(e) => setDefinition(e.target.value)}
              disabled={why !== undefined}
            />
          )}
        </Field>
        <button type="submit" className="button-primary" disabled={busy || why !== undefined}>
          Add app
        </button>
      </form>
    </>
  );
}
