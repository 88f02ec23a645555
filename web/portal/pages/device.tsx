/**
 * One device: its facts, what the user may do (Remove and Reset behind a confirmation, only when the server
 * allows it; otherwise the server's reason), and the actions already started.
 */
import { useCallback, useEffect, useState } from 'react';
import { errorText } from '../../shared/api.ts';
import { Badge, ConfirmDialog, DataTable, When } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import { Link } from '../../shared/router.tsx';
import { DeviceApps } from './device-apps.tsx';
import { DeviceProfiles } from './device-profiles.tsx';
import { type DeviceDetail, type Permission, RELATION_TEXT, deviceTitle, portalApi } from '../portal-api.ts';

type Pending = 'retire' | 'wipe' | null;

const CONFIRM = {
  retire: {
    title: 'Remove this device?',
    label: 'Remove device',
    text: 'Your organisation stops managing this device: work settings, certificates and access are removed at its next check-in. Your own files stay.',
  },
  wipe: {
    title: 'Reset this device?',
    label: 'Reset device',
    text: 'The device is returned to factory settings at its next check-in. Everything on it, including your own files, is erased. This cannot be undone.',
  },
} as const;

function Refusal({ what, p }: { what: string; p: Permission }) {
  if (p.allowed) return null;
  return (
    <p className="muted">
      <strong>{what}:</strong> not available: {p.reason}.
    </p>
  );
}

export function Device({ id, onTitle }: { id: string; onTitle: (t: string) => void }) {
  const [d, setD] = useState<DeviceDetail | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [pending, setPending] = useState<Pending>(null);
  const [busy, setBusy] = useState(false);
  const load = useCallback(() => {
    portalApi
      .get<DeviceDetail>(`/devices/${encodeURIComponent(id)}`)
      .then((r) => {
        setD(r);
        onTitle(deviceTitle(r));
      })
      .catch((e) => setError(errorText(e)));
  }, [id, onTitle]);
  useEffect(load, [load]);

  async function confirm() {
    if (!pending) return;
    setBusy(true);
    try {
      await portalApi.post(`/devices/${encodeURIComponent(id)}/${pending}`);
      setNotice(
        pending === 'retire'
          ? 'Removal requested: the device is removed at its next check-in.'
          : 'Reset requested: the device resets at its next check-in.',
      );
      setError(null);
      load();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
      setPending(null);
    }
  }

  if (!d) return <Status error={error}>Loading…</Status>;
  const actionsAllowed = d.permissions.retire.allowed || d.permissions.wipe.allowed;
  return (
    <>
      <Status error={error}>{notice}</Status>
      <dl className="props">
        <dt>Relation</dt>
        <dd>{RELATION_TEXT[d.relation]}</dd>
        <dt>Primary user</dt>
        <dd>{d.primaryUpn ?? 'none (shared device)'}</dd>
        <dt>Ownership</dt>
        <dd>
          <Badge tone={d.ownership === 'corporate' ? 'info' : 'neutral'}>{d.ownership}</Badge>
        </dd>
        <dt>Windows version</dt>
        <dd>{d.osVersion ?? 'not reported yet'}</dd>
        <dt>Model</dt>
        <dd>{[d.manufacturer, d.model].filter(Boolean).join(' ') || 'not reported yet'}</dd>
        <dt>Serial number</dt>
        <dd className="mono">{d.serialNumber ?? 'not reported'}</dd>
        <dt>Last check-in</dt>
        <dd>
          <When iso={d.lastCheckInAt} />
        </dd>
      </dl>
      <p>
        <Link to={`devices/${encodeURIComponent(d.deviceId)}/privacy`}>What your organisation can see on this device</Link>
      </p>

      <section aria-labelledby="actions-h">
        <h2 id="actions-h">Actions</h2>
        {actionsAllowed ? (
          <div className="actions">
            {d.permissions.retire.allowed ? (
              <button type="button" onClick={() => setPending('retire')}>
                Remove device
              </button>
            ) : null}
            {d.permissions.wipe.allowed ? (
              <button type="button" className="button-danger" onClick={() => setPending('wipe')}>
                Reset device
              </button>
            ) : null}
          </div>
        ) : null}
        <Refusal what="Remove" p={d.permissions.retire} />
        <Refusal what="Reset" p={d.permissions.wipe} />
      </section>

      <section aria-labelledby="apps-h">
        <h2 id="apps-h">Available apps</h2>
        <DeviceApps deviceId={d.deviceId} />
      </section>
      <DeviceProfiles deviceId={d.deviceId} />

      <section aria-labelledby="history-h">
        <h2 id="history-h">Requested actions</h2>
        <DataTable
          caption="Actions requested on this device"
          rows={d.actions}
          rowKey={(a) => `${a.kind}-${a.createdAt}`}
          empty="No actions yet."
          columns={[
            { header: 'Action', cell: (a) => a.kind },
            {
              header: 'State',
              cell: (a) => <Badge tone={a.state === 'failed' ? 'bad' : a.state === 'acknowledged' ? 'ok' : 'info'}>{a.state}</Badge>,
            },
            { header: 'Requested', cell: (a) => <When iso={a.createdAt} /> },
          ]}
        />
      </section>

      {pending ? (
        <ConfirmDialog
          open
          title={CONFIRM[pending].title}
          confirmLabel={CONFIRM[pending].label}
          danger={pending === 'wipe'}
          busy={busy}
          onConfirm={confirm}
          onCancel={() => setPending(null)}
        >
          <p>{CONFIRM[pending].text}</p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}
