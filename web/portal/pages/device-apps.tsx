/**
 * The "Available apps" section of a device: apps the user's groups offer that fit the device's Windows
 * build, each with its install status and an Install button when the server allows it (else its reason).
 * A failed install says so and its Install sends it again.
 */
import { Badge } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import { InstallOutcome, useOfferedList } from './offered-list.tsx';

type InstallStatus = 'not_installed' | 'queued' | 'sent' | 'installing' | 'installed' | 'failed';

interface PortalApp {
  id: string;
  name: string;
  publisher: string;
  version: string;
  kind: 'store' | 'msi';
  intent: 'required' | 'available';
  minWindowsBuild: number;
  fit: 'yes' | 'no' | 'unknown';
  fitReason: string | null;
  status: InstallStatus;
}

const STATUS: Record<InstallStatus, { text: string; tone: 'ok' | 'warn' | 'bad' | 'info' | 'neutral' }> = {
  not_installed: { text: 'Not installed', tone: 'neutral' },
  queued: { text: 'Install requested', tone: 'info' },
  sent: { text: 'Installing', tone: 'info' },
  installing: { text: 'Installing', tone: 'info' },
  installed: { text: 'Installed', tone: 'ok' },
  failed: { text: 'Install failed', tone: 'bad' },
};

export function DeviceApps({ deviceId }: { deviceId: string }) {
  const { list, error, notice, busy, install: request } = useOfferedList<PortalApp>(`/devices/${encodeURIComponent(deviceId)}/apps`);
  const install = (app: PortalApp) => request(app.id, `${app.name}: install requested. The device installs it at its next check-in.`);

  if (!list) return <Status error={error}>Loading apps…</Status>;
  return (
    <>
      <InstallOutcome notice={notice} error={error} />
      {!list.canInstall && (
        <p className="muted">
          <strong>Install apps:</strong> not available: {list.reason}.
        </p>
      )}
      {list.items.length === 0 ? (
        <p>Your organisation has not made any apps available for this device yet.</p>
      ) : (
        <ul className="cards app-list">
          {list.items.map((a) => (
            <li key={a.id} className="card">
              <h3>{a.name}</h3>
              <p className="muted">
                {a.publisher} · version {a.version} · {a.intent === 'required' ? 'required by your organisation' : 'available'}
              </p>
              {a.fitReason && <p className="muted">{a.fitReason}</p>}
              <p>
                <Badge tone={STATUS[a.status].tone}>{STATUS[a.status].text}</Badge>
              </p>
              {a.status === 'failed' && (
                <p className="muted">
                  {a.intent === 'required'
                    ? 'The install did not succeed on this device; it is tried again automatically, and your IT department can see why.'
                    : 'The install did not succeed on this device. You can try again; if it keeps failing, contact your IT department.'}
                </p>
              )}
              {list.canInstall && a.intent === 'available' && (a.status === 'not_installed' || a.status === 'failed') && (
                <button type="button" className="button-primary" disabled={busy === a.id} onClick={() => void install(a)}>
                  {busy === a.id ? 'Requesting…' : a.status === 'failed' ? `Install ${a.name} again` : `Install ${a.name}`}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
