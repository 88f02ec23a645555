/**
 * The "Available profiles" section of a device: work settings the user's groups offer (assigned as
 * available), each with its state on this device and an Install button when the server allows it; when it
 * does not, the server's reason is shown instead. The device receives a profile at its next check-in.
 */
import { Badge } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import { InstallOutcome, useOfferedList } from './offered-list.tsx';

type ProfileState = 'available' | 'requested' | 'installed' | 'failed';

interface PortalProfile {
  name: string;
  scope: 'user' | 'device';
  settingCount: number;
  state: ProfileState;
  requestedAt: string | null;
  installable: boolean;
  reason: string | null;
}

const STATE: Record<ProfileState, { text: string; tone: 'ok' | 'warn' | 'bad' | 'info' | 'neutral' }> = {
  available: { text: 'Not installed', tone: 'neutral' },
  requested: { text: 'Install requested', tone: 'info' },
  installed: { text: 'Installed', tone: 'ok' },
  failed: { text: 'Install failed', tone: 'bad' },
};

export function DeviceProfiles({ deviceId }: { deviceId: string }) {
  const {
    list,
    error,
    notice,
    busy,
    install: request,
  } = useOfferedList<PortalProfile>(`/devices/${encodeURIComponent(deviceId)}/profiles`);
  const install = (p: PortalProfile) => request(p.name, `${p.name}: install requested. The device receives it at its next check-in.`);

  return (
    <section aria-labelledby="profiles-h">
      <h2 id="profiles-h">Available profiles</h2>
      {!list ? (
        <Status error={error}>Loading profiles…</Status>
      ) : (
        <>
          <InstallOutcome notice={notice} error={error} />
          {!list.canInstall && (
            <p className="muted">
              <strong>Install profiles:</strong> not available: {list.reason}.
            </p>
          )}
          {list.items.length === 0 ? (
            <p>Your organisation has not made any profiles available to you.</p>
          ) : (
            <ul className="cards app-list">
              {list.items.map((p) => (
                <li key={p.name} className="card">
                  <h3>{p.name}</h3>
                  <p className="muted">
                    {p.settingCount} {p.settingCount === 1 ? 'setting' : 'settings'} ·{' '}
                    {p.scope === 'device' ? 'for the whole device' : 'for your account on this device'}
                  </p>
                  <p>
                    <Badge tone={STATE[p.state].tone}>{STATE[p.state].text}</Badge>
                  </p>
                  {p.state === 'failed' && <p className="muted">The device refused one of its settings; your IT department can see why.</p>}
                  {list.canInstall && !p.installable && p.reason && <p className="muted">Cannot be installed here: {p.reason}.</p>}
                  {p.installable && p.state === 'available' && (
                    <button type="button" className="button-primary" disabled={busy === p.name} onClick={() => void install(p)}>
                      {busy === p.name ? 'Requesting…' : `Install ${p.name}`}
                    </button>
                  )}
                </li>
              ))}
            </ul>
          )}
        </>
      )}
    </section>
  );
}
