/**
 * The admin console: one session (GET /session on load; sign-in page otherwise), the page chosen from the path,
 * and the navigation. Everything comes from /api/v1; the API enforces roles, the console only explains them.
 */
import { createContext, useCallback, useContext, useEffect, useState } from 'react';
import { ApiError, del, get, type Session, setCsrfToken } from '../shared/api.ts';
import { Layout, Status } from '../shared/layout.tsx';
import { match, navigate, useLocation } from '../shared/router.tsx';
import { AttemptsPage } from './pages/attempts.tsx';
import { AuditPage } from './pages/audit.tsx';
import { DashboardPage } from './pages/dashboard.tsx';
import { DevicePage } from './pages/device.tsx';
import { DevicesPage } from './pages/devices.tsx';
import { SignInPage } from './pages/sign-in.tsx';
import { DnsPage } from './pages/dns.tsx';
import { EntraPage } from './pages/entra.tsx';
import { MethodsPage } from './pages/methods.tsx';
import { ProfilePage, ProfilesPage } from './pages/profiles.tsx';
import { AutoEnrollmentPage } from './pages/auto-enrollment.tsx';
import { LicensesPage } from './pages/licenses.tsx';
import { AppsPage } from './pages/apps.tsx';
import { RestrictionsPage } from './pages/restrictions.tsx';
import { GroupsPage, UserPage, UsersPage } from './pages/users.tsx';

const PRODUCT = 'Winroll admin';

const SessionContext = createContext<Session | null>(null);

/** The signed-in admin (pages render only once there is one). */
export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('no session');
  return s;
}

const ROLE_NAMES: Record<Session['role'], string> = {
  administrator: 'Administrator',
  helpdesk: 'Help desk',
  readonly: 'Read-only',
};

interface PageDef {
  title: string;
  nav: string;
  render: () => React.ReactNode;
}

function pageFor(path: string): PageDef {
  const device = match('devices/:id', path)?.id;
  if (device !== undefined) return { title: 'Device', nav: 'devices', render: () => <DevicePage deviceId={device} /> };
  const user = match('users/:upn', path)?.upn;
  if (user !== undefined) return { title: 'User', nav: 'users', render: () => <UserPage upn={user} /> };
  const policyPage: Record<string, PageDef> = {
    users: { title: 'Users', nav: 'users', render: () => <UsersPage /> },
    groups: { title: 'Groups', nav: 'users', render: () => <GroupsPage /> },
    licenses: { title: 'Licenses', nav: 'licenses', render: () => <LicensesPage /> },
    'automatic-enrollment': { title: 'Automatic enrollment', nav: 'automatic-enrollment', render: () => <AutoEnrollmentPage /> },
    restrictions: { title: 'Restrictions', nav: 'restrictions', render: () => <RestrictionsPage /> },
  };
  const policy = Object.hasOwn(policyPage, path) ? policyPage[path] : undefined;
  if (policy) return policy;
  const profile = match('profiles/:name', path)?.name;
  if (profile !== undefined) return { title: 'Profile', nav: 'profiles', render: () => <ProfilePage name={profile} /> };
  const setupPage: Record<string, PageDef> = {
    dns: { title: 'DNS validation', nav: 'dns', render: () => <DnsPage /> },
    entra: { title: 'Entra ID', nav: 'entra', render: () => <EntraPage /> },
    profiles: { title: 'Profiles and assignments', nav: 'profiles', render: () => <ProfilesPage /> },
    apps: { title: 'Apps', nav: 'apps', render: () => <AppsPage /> },
    'enrollment-methods': { title: 'Enrollment methods', nav: 'enrollment-methods', render: () => <MethodsPage /> },
  };
  const setup = Object.hasOwn(setupPage, path) ? setupPage[path] : undefined;
  if (setup) return setup;
  switch (path) {
    case '':
      return { title: 'Dashboard', nav: '', render: () => <DashboardPage /> };
    case 'devices':
      return { title: 'Devices', nav: 'devices', render: () => <DevicesPage /> };
    case 'enrollment-attempts':
      return { title: 'Enrollment attempts', nav: 'enrollment-attempts', render: () => <AttemptsPage /> };
    case 'audit':
      return { title: 'Audit log', nav: 'audit', render: () => <AuditPage /> };
    default:
      return { title: 'Page not found', nav: '', render: () => <p>There is no such page. Use the navigation above.</p> };
  }
}

export function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<string | null>(null);
  const { path } = useLocation();

  useEffect(() => {
    get<Session>('/session')
      .then((s) => {
        setCsrfToken(s.csrfToken);
        setSession(s);
      })
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 401) setSession(null);
        else setLoadError(e instanceof Error ? e.message : String(e));
      });
  }, []);

  const onSignedIn = useCallback((s: Session) => {
    setCsrfToken(s.csrfToken);
    setSession(s);
  }, []);

  const signOut = useCallback(async () => {
    try {
      await del('/session');
    } finally {
      setCsrfToken(null);
      setSession(null);
      navigate('', { replace: true });
    }
  }, []);

  if (session === undefined)
    return (
      <Layout product={PRODUCT} nav={[]} title={loadError ? 'The console cannot start' : 'Loading'}>
        <Status error={loadError}>{loadError ? null : 'Loading…'}</Status>
      </Layout>
    );
  if (session === null)
    return (
      <Layout product={PRODUCT} nav={[]} title="Sign in">
        <SignInPage onSignedIn={onSignedIn} />
      </Layout>
    );

  const page = pageFor(path);
  const nav = [
    { to: '', label: 'Dashboard' },
    { to: 'devices', label: 'Devices' },
    { to: 'enrollment-attempts', label: 'Enrollment attempts' },
    { to: 'users', label: 'Users' },
    { to: 'licenses', label: 'Licenses' },
    { to: 'automatic-enrollment', label: 'Automatic enrollment' },
    { to: 'restrictions', label: 'Restrictions' },
    { to: 'enrollment-methods', label: 'Enrollment methods' },
    { to: 'dns', label: 'DNS' },
    { to: 'entra', label: 'Entra ID' },
    { to: 'profiles', label: 'Profiles' },
    { to: 'apps', label: 'Apps' },
    ...(session.role === 'helpdesk' ? [] : [{ to: 'audit', label: 'Audit log' }]),
  ].map((n) => ({ ...n, current: n.to === page.nav }));
  return (
    <SessionContext.Provider value={session}>
      <Layout
        product={PRODUCT}
        nav={nav}
        title={page.title}
        user={
          <>
            <span>
              {session.upn} <span className="role">({ROLE_NAMES[session.role]})</span>
            </span>
            <button type="button" className="linkish" onClick={signOut}>
              Sign out
            </button>
          </>
        }
      >
        {page.render()}
      </Layout>
    </SessionContext.Provider>
  );
}
