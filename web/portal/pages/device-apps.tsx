/**
 * The "Available apps" section of a device: apps the user's groups offer that fit the device's Windows
 * build, each with its install status and an Install button when the server allows it (else its reason).
 * A failed install says so and its Install sends it again.
 */
import { useCallback, useEffect, useState } from 'react';
import { errorText } from '../../shared/api.ts';
import { Badge } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import { portalApi } from '../portal-api.ts';

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

interface AppList {
  canInstall: boolean;
  reason: string | null;
  items: PortalApp[];
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
  const [list, setList] = useState<AppList | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const path = `/devices/${encodeURIComponent(deviceId)}/apps`;
  const load = useCallback(() => {
    portalApi
      .get<AppList>(path)
      .then(setList)
      .catch((e) => setError(errorText(e)));
  }, [path]);
  useEffect(load, [load]);

  async function install(app: PortalApp) {
    setBusy(app.id);
    setError(null);
    try {
      await portalApi.post(`${path}/${encodeURIComponent(app.id)}/install`);
      setNotice(`${app.name}: install requested. The device installs it at its next check-in.`);
      load();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(null);
    }
  }

  if (!list) return <Status error={error}>Loading apps…</Status>;
  return (
    <>
      {notice && (
        <p className="alert alert-info" role="status">
          {notice}
        </p>
      )}
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
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
