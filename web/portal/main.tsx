/** Company Portal entry (served at /portal/): sign in, then my devices, a device, enroll, what the organisation can see. */
import { type ReactNode, StrictMode, useCallback, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import '../shared/styles.css';
import './portal.css';
import { Layout } from '../shared/layout.tsx';
import { match, navigate, setBase, useLocation } from '../shared/router.tsx';
import { Device } from './pages/device.tsx';
import { Enroll } from './pages/enroll.tsx';
import { MyDevices } from './pages/my-devices.tsx';
import { Privacy } from './pages/privacy.tsx';
import { SignIn } from './pages/sign-in.tsx';
import { type PortalSession, portalApi } from './portal-api.ts';

setBase('/portal/');

const PRODUCT = 'Company Portal';

function App() {
  const { path, query } = useLocation();
  const [session, setSession] = useState<PortalSession | null | undefined>(undefined);
  const [deviceTitle, setDeviceTitle] = useState('Device');
  const onTitle = useCallback((t: string) => setDeviceTitle(t), []);

  useEffect(() => {
    portalApi
      .get<PortalSession>('/session')
      .then((s) => {
        portalApi.setCsrfToken(s.csrfToken);
        setSession(s);
      })
      .catch(() => setSession(null));
  }, []);

  if (session === undefined)
    return (
      <Layout product={PRODUCT} nav={[]} title="Loading">
        <p role="status">Loading…</p>
      </Layout>
    );
  if (session === null)
    return (
      <Layout product={PRODUCT} nav={[]} title="Sign in">
        <SignIn
          onSignedIn={(s) => {
            portalApi.setCsrfToken(s.csrfToken);
            setSession(s);
          }}
        />
      </Layout>
    );

  const signOut = async () => {
    await portalApi.del('/session').catch(() => {});
    portalApi.setCsrfToken(null);
    setSession(null);
    navigate('');
  };
  const user = (
    <>
      <span>{session.displayName ?? session.upn}</span>{' '}
      <button type="button" className="linkish" onClick={signOut}>
        Sign out
      </button>
    </>
  );
  const nav = [
    { to: '', label: 'My devices', current: path === '' || path.startsWith('devices') },
    { to: 'enroll', label: 'Enroll this device', current: path === 'enroll' },
    { to: 'privacy', label: 'What your organisation can see', current: path === 'privacy' },
  ];
  const frame = (title: string, body: ReactNode) => (
    <Layout product={PRODUCT} nav={nav} user={user} title={title}>
      {body}
    </Layout>
  );

  const privacyOf = match('devices/:id/privacy', path);
  if (privacyOf) return frame('What your organisation can see', <Privacy deviceId={privacyOf.id ?? ''} ownership="personal" />);
  const device = match('devices/:id', path);
  if (device) return frame(deviceTitle, <Device key={device.id} id={device.id ?? ''} onTitle={onTitle} />);
  if (path === 'enroll') return frame('Enroll this device', <Enroll />);
  if (path === 'privacy')
    return frame(
      'What your organisation can see',
      <Privacy ownership={query.get('ownership') === 'corporate' ? 'corporate' : 'personal'} />,
    );
  if (path === '') return frame('My devices', <MyDevices />);
  return frame('Page not found', <p>There is no such page. Go to your devices.</p>);
}

const root = document.getElementById('root');
if (root)
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
