import { type ReactNode, useCallback, useEffect, useState } from 'react';
import { errorText, get, post } from '../../shared/api.ts';
import { Badge, ConfirmDialog, DataTable, Field, When } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import { Link, navigate } from '../../shared/router.tsx';
import { useSession } from '../app.tsx';
import type { Command, ComplianceState, DeviceDetail } from '../types.ts';
import { CommandBadge, ComplianceBadge, OwnershipBadge, windowsName } from './badges.tsx';
import { PrimaryUserForm } from './primary-user.tsx';
import { DeviceApps } from './device-apps.tsx';

interface Compliance {
  state: ComplianceState;
  summary: string;
  evaluatedAt: string;
  rules: { rule: string; title: string; status: 'pass' | 'fail' | 'unknown'; reason: string; fix: string }[];
}

interface History {
  deviceIds: string[];
  enrollments: {
    deviceId: string;
    how: string;
    upn: string;
    enrollmentType: string;
    status: string;
    createdAt: string;
    supersededAt: string | null;
  }[];
  merges: { mergedDeviceId: string; reason: string; mergedAt: string }[];
}

type ActionKind = 'sync' | 'restart' | 'rename' | 'retire' | 'wipe' | 'delete';

interface ActionDef {
  kind: ActionKind;
  label: string;
  /** What happens, shown in the confirmation dialog. */
  explain: string;
  helpdesk: boolean;
  danger: boolean;
}

const ACTIONS: ActionDef[] = [
  { kind: 'sync', label: 'Sync', explain: 'The device checks in and applies its current settings.', helpdesk: true, danger: false },
  {
    kind: 'restart',
    label: 'Restart',
    explain: 'Windows restarts the device at once; unsaved work is lost.',
    helpdesk: true,
    danger: true,
  },
  {
    kind: 'rename',
    label: 'Rename',
    explain: 'Windows renames the device (takes effect at its next restart).',
    helpdesk: false,
    danger: false,
  },
  {
    kind: 'retire',
    label: 'Retire',
    explain: "The device unenrolls: Winroll's settings and certificate are removed; the user's data stays.",
    helpdesk: false,
    danger: true,
  },
  {
    kind: 'wipe',
    label: 'Wipe',
    explain: 'Windows resets the device to factory settings, erasing all data on it.',
    helpdesk: false,
    danger: true,
  },
  {
    kind: 'delete',
    label: 'Delete',
    explain: 'The device is retired and then its record is removed from Winroll.',
    helpdesk: false,
    danger: true,
  },
];

const ROLE_NAMES = { administrator: 'Administrator', helpdesk: 'Help desk', readonly: 'Read-only' } as const;

/** Why the signed-in admin may not run an action (undefined: allowed). The API enforces the same rule. */
function refusal(role: keyof typeof ROLE_NAMES, a: ActionDef, d: DeviceDetail): string | undefined {
  if (role === 'readonly') return 'Your role (Read-only) may look but not run remote actions.';
  if (role === 'helpdesk' && !a.helpdesk) return `Help desk may only sync and restart; ${a.label.toLowerCase()} needs an administrator.`;
  if (d.status !== 'enrolled' && a.kind !== 'delete') return 'The device is no longer enrolled.';
  if (a.kind === 'rename' && d.ownership !== 'corporate') return 'Only corporate devices can be renamed.';
  if (d.managementMode === 'mam' && a.kind !== 'retire' && a.kind !== 'delete')
    return 'App-protection (MAM) registrations accept only retire and delete.';
  return undefined;
}

/** Which remote action a command carries, from the CSP node it targets. */
const ACTION_NODES: [RegExp, string][] = [
  [/DevDetail\/SwV$/, 'sync'],
  [/Reboot\/RebootNow$/, 'restart'],
  [/RemoteWipe\//, 'wipe'],
  [/DMClient\/.*Unenroll$/i, 'retire'],
  [/Accounts\/Domain\/ComputerName$/, 'rename'],
];

function describeCommand(c: Command): string {
  if (c.origin.kind === 'action') {
    const kind = ACTION_NODES.find(([re]) => re.test(c.locUri))?.[1];
    return kind ? `Remote action: ${kind}` : `Remote action: ${c.locUri.split('/').slice(-2).join('/')}`;
  }
  if (c.origin.kind === 'profile') return `Profile setting ${c.locUri}`;
  if (c.origin.kind === 'inventory') return `Inventory ${c.locUri}`;
  return `${c.origin.purpose ?? 'System'}: ${c.locUri}`;
}

export function DevicePage({ deviceId }: { deviceId: string }) {
  const session = useSession();
  const [device, setDevice] = useState<DeviceDetail | null>(null);
  const [compliance, setCompliance] = useState<Compliance | null>(null);
  const [history, setHistory] = useState<History | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [pending, setPending] = useState<ActionDef | null>(null);
  const [newName, setNewName] = useState('');
  const [keepEnrollment, setKeepEnrollment] = useState(false);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ ok: boolean; text: string } | null>(null);

  const load = useCallback(async () => {
    try {
      const d = await get<DeviceDetail>(`/devices/${encodeURIComponent(deviceId)}`);
      setDevice(d);
      setError(null);
      const [c, h] = await Promise.allSettled([
        get<Compliance>(`/devices/${encodeURIComponent(deviceId)}/compliance`),
        get<History>(`/devices/${encodeURIComponent(deviceId)}/history`),
      ]);
      setCompliance(c.status === 'fulfilled' ? c.value : null);
      setHistory(h.status === 'fulfilled' ? h.value : null);
    } catch (e) {
      setError(errorText(e));
    }
  }, [deviceId]);

  useEffect(() => {
    void load();
  }, [load]);

  const run = async () => {
    if (!pending || !device) return;
    setBusy(true);
    try {
      const body =
        pending.kind === 'rename'
          ? { kind: 'rename', name: newName.trim() }
          : pending.kind === 'wipe'
            ? { kind: 'wipe', keepEnrollment }
            : { kind: pending.kind };
      const r = await post<{ state: string; push: { ok: boolean; detail?: string } }>(
        `/devices/${encodeURIComponent(device.deviceId)}/actions`,
        body,
      );
      setResult({
        ok: true,
        text: `${pending.label} queued. ${r.push.ok ? 'The device was woken and will pick it up now.' : 'The device picks it up at its next check-in.'}`,
      });
      setPending(null);
      if (pending.kind === 'delete') navigate('devices');
      else await load();
    } catch (e) {
      setResult({ ok: false, text: `${pending.label} refused: ${errorText(e)}` });
      setPending(null);
    } finally {
      setBusy(false);
    }
  };

  if (!device) return <Status error={error}>{error ? null : 'Loading…'}</Status>;
  const inv = device.inventory ?? {};
  const invText = (k: string): ReactNode => {
    const v = inv[k];
    return v === undefined || v === null || v === '' ? <span className="muted">Not reported</span> : String(v);
  };
  const mb = (k: string) => (typeof inv[k] === 'number' ? `${Math.round((inv[k] as number) / 1024)} GB` : undefined);
  const actions = ACTIONS.map((a) => ({ a, why: refusal(session.role, a, device) }));
  const readonly = session.role === 'readonly';

  return (
    <>
      <p>
        <Link to="devices">← All devices</Link>
      </p>
      <h2 className="device-name">{device.deviceName ?? device.deviceId}</h2>
      <p>
        <OwnershipBadge ownership={device.ownership} />{' '}
        {device.status === 'enrolled' ? <Badge tone="ok">Enrolled</Badge> : <Badge tone="neutral">Unenrolled</Badge>}{' '}
        <Badge tone="info">{device.managementMode === 'mam' ? 'App protection (MAM)' : 'Device management (MDM)'}</Badge>{' '}
        <ComplianceBadge state={compliance?.state ?? device.compliance} />
      </p>
      {device.warnings.length > 0 ? (
        <div className="alert alert-warn" role="note" aria-label="Warnings">
          <strong>Warnings</strong>
          <ul className="warning-list">
            {device.warnings.map((w) => (
              <li key={`${w.kind}-${w.createdAt}`}>
                {w.kind === 'shared_hwdevid' ? 'Possible cloned image or duplicate record: ' : ''}
                {w.detail}
                {w.relatedDeviceIds.length > 0 ? (
                  <>
                    {' '}
                    (see{' '}
                    {w.relatedDeviceIds.map((id, i) => (
                      <span key={id}>
                        {i > 0 ? ', ' : ''}
                        <Link to={`devices/${encodeURIComponent(id)}`}>{id}</Link>
                      </span>
                    ))}
                    )
                  </>
                ) : null}
              </li>
            ))}
          </ul>
        </div>
      ) : null}

      <section aria-labelledby="actions-h">
        <h2 id="actions-h">Remote actions</h2>
        {readonly ? (
          <p className="muted" id="actions-why">
            Your role (Read-only) may look but not run remote actions.
          </p>
        ) : null}
        <div className="actions">
          {actions.map(({ a, why }) => (
            <button
              key={a.kind}
              type="button"
              className={a.danger ? undefined : 'button-primary'}
              disabled={why !== undefined}
              title={why}
              aria-describedby={why ? `why-${a.kind}` : undefined}
              onClick={() => {
                setResult(null);
                setNewName(device.deviceName ?? '');
                setKeepEnrollment(false);
                setPending(a);
              }}
            >
              {a.label}
            </button>
          ))}
        </div>
        {!readonly ? (
          <ul className="muted action-reasons">
            {actions
              .filter(({ why }) => why)
              .map(({ a, why }) => (
                <li key={a.kind} id={`why-${a.kind}`}>
                  {a.label}: {why}
                </li>
              ))}
          </ul>
        ) : (
          actions.map(({ a }) => (
            <span key={a.kind} id={`why-${a.kind}`} hidden>
              Your role (Read-only) may look but not run remote actions.
            </span>
          ))
        )}
        {result ? (
          <div className={`alert ${result.ok ? 'alert-info' : 'alert-error'}`} role={result.ok ? 'status' : 'alert'}>
            {result.text}
          </div>
        ) : null}
      </section>

      <ConfirmDialog
        open={pending !== null}
        title={pending ? `${pending.label} ${device.deviceName ?? device.deviceId}?` : ''}
        confirmLabel={pending ? `${pending.label} device` : 'Confirm'}
        danger={pending?.danger ?? false}
        busy={busy || (pending?.kind === 'rename' && !newName.trim())}
        onConfirm={() => void run()}
        onCancel={() => setPending(null)}
      >
        <p>{pending?.explain}</p>
        {pending?.kind === 'rename' ? (
          <Field label="New name" hint="Up to 63 characters">
            {(a) => <input {...a} maxLength={63} value={newName} onChange={(e) => setNewName(e.target.value)} />}
          </Field>
        ) : null}
        {pending?.kind === 'wipe' ? (
          <label>
            <input type="checkbox" checked={keepEnrollment} onChange={(e) => setKeepEnrollment(e.target.checked)} /> Keep the enrollment
            (the device re-enrolls itself after the reset)
          </label>
        ) : null}
      </ConfirmDialog>

      <section aria-labelledby="overview-h">
        <h2 id="overview-h">Overview</h2>
        <dl className="props">
          <dt>DeviceID</dt>
          <dd className="mono">{device.deviceId}</dd>
          <dt>Primary user</dt>
          <dd>{device.primaryUser ? device.primaryUser.upn : 'None (shared device)'}</dd>
          <dt>Enrolled by</dt>
          <dd>{device.upn}</dd>
          <dt>Enrollment type</dt>
          <dd>{device.enrollmentType === 'Device' ? 'Device (no user)' : 'Full (user)'}</dd>
          <dt>First enrolled</dt>
          <dd>
            <When iso={device.firstEnrolledAt} />
          </dd>
          <dt>Last enrolled</dt>
          <dd>
            <When iso={device.lastEnrolledAt} />
          </dd>
          <dt>Last check-in</dt>
          <dd>
            <When iso={device.lastCheckInAt} />
          </dd>
          <dt>Certificate expires</dt>
          <dd>
            <When iso={device.certNotAfter} />
          </dd>
        </dl>
      </section>

      <PrimaryUserForm deviceId={device.deviceId} current={device.primaryUser?.upn ?? null} onChanged={() => void load()} />

      <section aria-labelledby="inventory-h">
        <h2 id="inventory-h">Inventory</h2>
        {device.inventory ? (
          <dl className="props">
            <dt>Operating system</dt>
            <dd>{windowsName(device.osVersion)}</dd>
            <dt>Manufacturer</dt>
            <dd>{invText('manufacturer')}</dd>
            <dt>Model</dt>
            <dd>{invText('model')}</dd>
            <dt>Serial number</dt>
            <dd>{invText('serialNumber')}</dd>
            <dt>Storage</dt>
            <dd>
              {mb('totalStorageMb') ? (
                `${mb('totalStorageMb')} total${mb('freeStorageMb') ? `, ${mb('freeStorageMb')} free` : ''}`
              ) : (
                <span className="muted">Not reported</span>
              )}
            </dd>
            <dt>TPM</dt>
            <dd>{invText('tpmVersion')}</dd>
            <dt>Language</dt>
            <dd>{invText('language')}</dd>
            <dt>Collected</dt>
            <dd>
              <When iso={typeof inv.collectedAt === 'string' ? inv.collectedAt : null} />
            </dd>
          </dl>
        ) : (
          <p className="muted">The device has not reported its inventory yet (it does at its first check-in).</p>
        )}
      </section>

      <section aria-labelledby="compliance-h">
        <h2 id="compliance-h">Compliance</h2>
        {compliance ? (
          <>
            <p>
              <ComplianceBadge state={compliance.state} /> {compliance.summary}
            </p>
            <DataTable
              caption="Compliance rules"
              rows={compliance.rules}
              rowKey={(r) => r.rule}
              empty="No compliance rules are set."
              columns={[
                { header: 'Rule', cell: (r) => r.title },
                {
                  header: 'Result',
                  cell: (r) => (
                    <Badge tone={r.status === 'pass' ? 'ok' : r.status === 'fail' ? 'bad' : 'neutral'}>
                      {r.status === 'pass' ? 'Passes' : r.status === 'fail' ? 'Fails' : 'Unknown'}
                    </Badge>
                  ),
                },
                { header: 'Why', cell: (r) => r.reason },
                { header: 'Fix', cell: (r) => r.fix || '—' },
              ]}
            />
          </>
        ) : (
          <p className="muted">Compliance is not available for this device.</p>
        )}
      </section>

      <section aria-labelledby="users-h">
        <h2 id="users-h">Users who signed in</h2>
        <DataTable
          caption="Users seen on this device"
          rows={device.users}
          rowKey={(u) => u.userId}
          empty="No directory user has been seen signed in yet."
          columns={[
            { header: 'User', cell: (u) => (u.displayName ? `${u.displayName} (${u.upn})` : u.upn) },
            { header: 'First seen', cell: (u) => <When iso={u.firstSeenAt} /> },
            { header: 'Last seen', cell: (u) => <When iso={u.lastSeenAt} /> },
          ]}
        />
      </section>

      <section aria-labelledby="enrollments-h">
        <h2 id="enrollments-h">Enrollment history</h2>
        <DataTable
          caption="Enrollments of this device"
          rows={history?.enrollments ?? []}
          rowKey={(e) => `${e.deviceId}-${e.createdAt}`}
          empty="No enrollment history."
          columns={[
            { header: 'When', cell: (e) => <When iso={e.createdAt} /> },
            { header: 'How', cell: (e) => e.how },
            { header: 'User', cell: (e) => e.upn },
            { header: 'DeviceID', cell: (e) => <span className="mono">{e.deviceId}</span> },
            { header: 'Status', cell: (e) => <Badge tone={e.status === 'active' ? 'ok' : 'neutral'}>{e.status}</Badge> },
          ]}
        />
        {history && history.merges.length > 0 ? (
          <p>Merged records (same machine): {history.merges.map((m) => `${m.mergedDeviceId} (${m.reason})`).join('; ')}</p>
        ) : null}
        <p>
          <Link to={`enrollment-attempts?deviceId=${encodeURIComponent(device.deviceId)}`}>Enrollment attempts of this device</Link>
        </p>
      </section>

      <DeviceApps deviceId={device.deviceId} />

      <section aria-labelledby="commands-h">
        <h2 id="commands-h">Commands and actions</h2>
        <DataTable
          caption="Newest commands and remote actions"
          rows={device.commands}
          rowKey={(c) => c.id}
          empty="No commands yet."
          columns={[
            { header: 'Queued', cell: (c) => <When iso={c.createdAt} /> },
            {
              header: 'What',
              cell: (c) => <span className={c.origin.kind === 'action' ? 'strong' : undefined}>{describeCommand(c)}</span>,
            },
            { header: 'Command', cell: (c) => <span className="mono">{c.verb}</span> },
            { header: 'State', cell: (c) => <CommandBadge state={c.state} status={c.status} /> },
            { header: 'Updated', cell: (c) => <When iso={c.updatedAt} /> },
          ]}
        />
      </section>
    </>
  );
}
