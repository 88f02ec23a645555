import { useEffect, useState } from 'react';
import { errorText, get, type Page } from '../../shared/api.ts';
import { Badge } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import { Link } from '../../shared/router.tsx';
import type { Dem, Domain, EnrollmentSettings, EntraTenant, Scope } from '../setup-types.ts';
import { lastDnsReport } from './dns.tsx';

interface Facts {
  domains: Domain[];
  tenants: EntraTenant[];
  settings: EnrollmentSettings;
  dems: Dem[];
}

interface Method {
  name: string;
  how: string;
  needs: string;
  live: boolean;
  state: string[];
  missing: string[];
}

const scopeText = (s: Scope) =>
  s.mode === 'all' ? 'all users' : s.mode === 'none' ? 'nobody' : `groups ${s.groups.map((g) => g.name).join(', ')}`;

function methods(f: Facts): Method[] {
  const hasDomain = f.domains.length > 0;
  const hasTenant = f.tenants.length > 0;
  const mdm = f.settings.mdmScope.mode !== 'none';
  const mam = f.settings.mamScope.mode !== 'none';
  const domainState = hasDomain
    ? [
        `Domains: ${f.domains.map((d) => `${d.name} (${d.authPolicy === 'Federated' ? 'federated sign-in' : 'password on this server'})`).join(', ')}`,
      ]
    : [];
  const dns = lastDnsReport;
  const dnsState = dns
    ? [
        `DNS (last test in this session): ${dns.domains
          .map(
            (d) =>
              `${d.domain} ${d.enrollment.verdict === 'ok' ? 'found automatically' : `${d.enrollment.verdict}, users type the server name`}`,
          )
          .join('; ')}`,
      ]
    : ['DNS: not tested in this session (see DNS validation)'];
  const tenantState = hasTenant ? [`Entra tenant connected: ${f.tenants.map((t) => t.tenantId).join(', ')}`] : [];
  const need = (ok: boolean, text: string) => (ok ? [] : [text]);
  return [
    {
      name: 'Manual (user-driven MDM only)',
      how: 'Settings > Accounts > Access work or school > "Enroll only in device management", or an ms-device-enrollment: link',
      needs: 'A configured domain for the user’s UPN suffix; the EnterpriseEnrollment CNAME for discovery (else the server name is typed)',
      live: hasDomain,
      state: [...domainState, ...dnsState],
      missing: need(hasDomain, 'Add a domain (UPN suffix).'),
    },
    {
      name: 'Automatic enrollment (Entra join)',
      how: 'Out-of-box experience or Settings > Access work or school > "Join this device to Microsoft Entra ID"',
      needs: 'A connected Entra tenant whose Mobility settings point here; the user in the MDM scope',
      live: hasTenant && mdm,
      state: [...tenantState, `MDM scope: ${scopeText(f.settings.mdmScope)}`],
      missing: [...need(hasTenant, 'Connect an Entra ID tenant.'), ...need(mdm, 'Set the MDM scope to some or all users.')],
    },
    {
      name: 'Work account (Entra registered)',
      how: 'Settings > Access work or school > Connect (add a work or school account) on a personal device',
      needs: 'A connected Entra tenant; the user in the MDM scope (and not in the MAM scope, which wins on personal devices)',
      live: hasTenant && mdm,
      state: [...tenantState, `MDM scope: ${scopeText(f.settings.mdmScope)}`],
      missing: [...need(hasTenant, 'Connect an Entra ID tenant.'), ...need(mdm, 'Set the MDM scope to some or all users.')],
    },
    {
      name: 'Bulk (provisioning package, device enrollment manager)',
      how: 'A provisioning package (Windows Configuration Designer) applied at setup, enrolling with a DEM account',
      needs: 'A configured domain and at least one device enrollment manager (DEM) account',
      live: hasDomain && f.dems.length > 0,
      state: [...domainState, `DEM accounts: ${f.dems.length ? f.dems.map((d) => d.upn).join(', ') : 'none'}`],
      missing: [...need(hasDomain, 'Add a domain (UPN suffix).'), ...need(f.dems.length > 0, 'Add a device enrollment manager.')],
    },
    {
      name: 'MAM registration (app protection, no MDM)',
      how: 'Adding a work account in a protected app (e.g. Edge) on a personal, Entra-registered device',
      needs: 'A connected Entra tenant with the MAM URLs set; the user in the MAM scope',
      live: hasTenant && mam,
      state: [...tenantState, `MAM scope: ${scopeText(f.settings.mamScope)}`],
      missing: [...need(hasTenant, 'Connect an Entra ID tenant.'), ...need(mam, 'Set the MAM scope to some or all users.')],
    },
  ];
}

async function all<T>(path: string): Promise<T[]> {
  return (await get<Page<T>>(path, { limit: 200 })).items;
}

/** Enrollment methods: every way a Windows PC can enroll, and which are live for this organisation. */
export function MethodsPage() {
  const [facts, setFacts] = useState<Facts | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    Promise.all([
      all<Domain>('/domains'),
      get<{ items: EntraTenant[] }>('/entra/tenants').then((p) => p.items),
      get<EnrollmentSettings>('/settings/enrollment'),
      all<Dem>('/dems'),
    ])
      .then(([domains, tenants, settings, dems]) => setFacts({ domains, tenants, settings, dems }))
      .catch((e: unknown) => setError(errorText(e)));
  }, []);

  if (!facts) return <Status error={error}>Loading…</Status>;
  const rows = methods(facts);
  return (
    <>
      <p>
        How Windows PCs can enroll, and what this organisation has set up for each. Read from the domains, Entra tenants, scopes and DEM
        accounts; test DNS on the <Link to="dns">DNS validation</Link> page.
      </p>
      <div className="table-wrap">
        <table className="data-table">
          <caption>Enrollment methods</caption>
          <thead>
            <tr>
              <th scope="col">Method</th>
              <th scope="col">How it starts</th>
              <th scope="col">Needs</th>
              <th scope="col">Status</th>
              <th scope="col">For this organisation</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((m) => (
              <tr key={m.name}>
                <th scope="row">{m.name}</th>
                <td>{m.how}</td>
                <td>{m.needs}</td>
                <td>{m.live ? <Badge tone="ok">Live</Badge> : <Badge tone="neutral">Not live</Badge>}</td>
                <td>
                  <ul>
                    {[...m.state, ...m.missing.map((x) => `Missing: ${x}`)].map((s) => (
                      <li key={s}>{s}</li>
                    ))}
                  </ul>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
