import { Fragment, useEffect, useState } from 'react';
import { errorText, get } from '../../shared/api.ts';
import { DataTable, When } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import type { EntraTenant, EntraUrls } from '../setup-types.ts';
import { CopyValue } from './copy.tsx';

/** Entra ID: connected tenants, and what to paste into the tenant's Mobility (MDM and MAM) settings. */
export function EntraPage() {
  const [tenants, setTenants] = useState<EntraTenant[] | null>(null);
  const [urls, setUrls] = useState<EntraUrls | null>(null);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    get<{ items: EntraTenant[] }>('/entra/tenants')
      .then((p) => setTenants(p.items))
      .catch((e: unknown) => setError(errorText(e)));
    get<EntraUrls>('/entra/urls')
      .then(setUrls)
      .catch((e: unknown) => setError(errorText(e)));
  }, []);

  const mdm: Array<[string, string]> = urls
    ? [
        ['Application ID URI', urls.applicationIdUri],
        ['MDM discovery URL', urls.mdm.discoveryUrl],
        ['MDM terms of use URL', urls.mdm.termsOfUseUrl],
        ['MDM compliance URL', urls.mdm.complianceUrl],
        ['MAM enrollment URL', urls.mam.enrollmentUrl],
        ['MAM terms of use URL', urls.mam.termsOfUseUrl],
        ['MAM compliance URL', urls.mam.complianceUrl],
      ]
    : [];

  return (
    <>
      <Status error={error}>{tenants === null && !error ? 'Loading…' : null}</Status>
      <section aria-labelledby="entra-tenants">
        <h2 id="entra-tenants">Connected tenants</h2>
        <DataTable
          caption="Connected Entra ID tenants"
          rows={tenants ?? []}
          loading={tenants === null}
          rowKey={(t) => t.tenantId}
          empty="No tenant connected: automatic enrollment through Entra join is off."
          columns={[
            { header: 'Tenant ID', cell: (t) => <span className="mono">{t.tenantId}</span> },
            { header: 'Client ID', cell: (t) => <span className="mono">{t.clientId}</span> },
            { header: 'Signing keys', cell: (t) => ('url' in t.keys ? t.keys.url : `${t.keys.stored} stored`) },
            { header: 'Connected', cell: (t) => <When iso={t.createdAt} /> },
          ]}
        />
      </section>
      {urls ? (
        <section aria-labelledby="entra-urls">
          <h2 id="entra-urls">Mobility (MDM and MAM) settings</h2>
          <dl className="props">
            {mdm.map(([label, value]) => (
              <Fragment key={label}>
                <dt>{label}</dt>
                <dd>
                  <CopyValue value={value} label={label} />
                </dd>
              </Fragment>
            ))}
          </dl>
          <h3>Steps</h3>
          <ol>
            {urls.steps.map((s) => (
              <li key={s}>{s}</li>
            ))}
          </ol>
        </section>
      ) : null}
    </>
  );
}
