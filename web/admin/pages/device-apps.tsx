/**
 * The device page's Apps section: each app assigned to the device's user or sent to the device, why it
 * applies (the groups and their intents), its state with the device's last status code in words (or, for an
 * MSI or Store install finished in the background, the result code the device reported), attempts
 * and the next automatic retry; administrators retry a failed install (or removal) with one click (a retry
 * only re-sends what the admin already chose, so no confirmation).
 */
import { useState } from 'react';
import { errorText, get, post } from '../../shared/api.ts';
import { Badge, DataTable, type Tone, When } from '../../shared/components.tsx';
import { useSession } from '../app.tsx';
import { adminOnlyReason } from './licenses.tsx';
import { useLoad } from './users.tsx';

type Intent = 'required' | 'available' | 'uninstall';
type State =
  | 'not_installed'
  | 'queued'
  | 'sent'
  | 'installing'
  | 'installed'
  | 'failed'
  | 'uninstall_queued'
  | 'uninstall_sent'
  | 'uninstalled'
  | 'uninstall_failed';

interface DeviceApp {
  appId: string;
  name: string | null;
  intent: Intent | null;
  groups: Array<{ group: string; intent: Intent }>;
  state: State;
  installedBy: 'required' | 'user' | null;
  attempts: number;
  maxAutomaticAttempts: number;
  lastStatus: { code: number; meaning: string } | null;
  /** What the device reported when a background install (MSI, Store) finished. */
  result: { code: number | null; meaning: string } | null;
  nextRetryAt: string | null;
  updatedAt: string | null;
}

const STATE: Record<State, { text: string; tone: Tone }> = {
  not_installed: { text: 'Not installed', tone: 'neutral' },
  queued: { text: 'Install queued', tone: 'info' },
  sent: { text: 'Sent to the device', tone: 'info' },
  installing: { text: 'Installing', tone: 'info' },
  installed: { text: 'Installed', tone: 'ok' },
  failed: { text: 'Install failed', tone: 'bad' },
  uninstall_queued: { text: 'Removal queued', tone: 'info' },
  uninstall_sent: { text: 'Removing', tone: 'info' },
  uninstalled: { text: 'Uninstalled', tone: 'neutral' },
  uninstall_failed: { text: 'Removal failed', tone: 'bad' },
};

/** Result codes as Windows documents them: HRESULTs in hex, msiexec exit codes in decimal. */
const resultCode = (code: number) => {
  const v = code < 0 ? code + 2 ** 32 : code;
  return v > 0xffff ? `0x${v.toString(16).toUpperCase().padStart(8, '0')}` : String(v);
};

const why = (a: DeviceApp) => {
  if (a.groups.length === 0) return a.installedBy === 'user' ? 'Installed by the user (no assignment now)' : 'No assignment now';
  return a.groups.map((g) => `${g.intent} via ${g.group}`).join('; ');
};

export function DeviceApps({ deviceId }: { deviceId: string }) {
  const session = useSession();
  const readOnly = adminOnlyReason(session.role);
  const { data, error, reload } = useLoad(() => get<{ items: DeviceApp[] }>(`/devices/${encodeURIComponent(deviceId)}/apps`), [deviceId]);
  const [busy, setBusy] = useState(false);
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);

  const retry = async (a: DeviceApp) => {
    setBusy(true);
    setMsg(null);
    try {
      await post(`/devices/${encodeURIComponent(deviceId)}/apps/${encodeURIComponent(a.appId)}/retry`);
      setMsg({ ok: true, text: `${a.name ?? a.appId}: sent again; the device gets it at its next check-in.` });
      reload();
    } catch (e) {
      setMsg({ ok: false, text: errorText(e) });
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="apps-h">
      <h2 id="apps-h">Apps</h2>
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
      {msg && (
        <p className={msg.ok ? 'alert alert-info' : 'alert alert-error'} role={msg.ok ? 'status' : 'alert'}>
          {msg.text}
        </p>
      )}
      <DataTable
        caption="Apps on this device"
        rows={data?.items ?? []}
        loading={!data && !error}
        rowKey={(a) => a.appId}
        empty="No app is assigned to this device's user or was sent to it."
        columns={[
          { header: 'App', cell: (a) => a.name ?? <span className="muted">Deleted app</span> },
          { header: 'Why', cell: why },
          {
            header: 'State',
            cell: (a) => <Badge tone={STATE[a.state].tone}>{STATE[a.state].text}</Badge>,
          },
          {
            header: 'Last status',
            // A background install's reported result says more than the 202 that accepted it.
            cell: (a) =>
              a.result ? (
                a.result.code === null ? (
                  a.result.meaning
                ) : (
                  `Result ${resultCode(a.result.code)}: ${a.result.meaning}`
                )
              ) : a.lastStatus ? (
                `${a.lastStatus.code}: ${a.lastStatus.meaning}`
              ) : (
                <span className="muted">none yet</span>
              ),
          },
          {
            header: 'Attempts',
            cell: (a) =>
              a.state === 'failed' && a.nextRetryAt ? (
                <>
                  {a.attempts} of {a.maxAutomaticAttempts}, next <When iso={a.nextRetryAt} />
                </>
              ) : (
                String(a.attempts)
              ),
          },
          { header: 'Updated', cell: (a) => <When iso={a.updatedAt} /> },
          {
            header: 'Action',
            cell: (a) =>
              a.state === 'failed' || a.state === 'uninstall_failed' ? (
                <button
                  type="button"
                  disabled={busy || readOnly !== undefined || a.name === null}
                  title={readOnly}
                  aria-label={`Retry ${a.name ?? 'app'}`}
                  onClick={() => void retry(a)}
                >
                  Retry
                </button>
              ) : null,
          },
        ]}
      />
    </section>
  );
}
