import { type FormEvent, useEffect, useState } from 'react';
import { errorText, get, type Page, post } from '../../shared/api.ts';
import { Badge, DataTable, Field, type Tone } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import type { DnsRecords, DnsReport, Domain, RecordCheck, Verdict } from '../setup-types.ts';
import { CopyButton } from './copy.tsx';

const VERDICT_TONE: Record<Verdict, Tone> = {
  ok: 'ok',
  legacy: 'warn',
  'wrong-target': 'bad',
  'not-cname': 'warn',
  missing: 'bad',
  error: 'bad',
};

const split = (s: string) =>
  s
    .split(/[\s,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

function VerdictBadge({ verdict }: { verdict: Verdict }) {
  return <Badge tone={VERDICT_TONE[verdict]}>{verdict}</Badge>;
}

interface Row {
  key: string;
  domain: string;
  kind: 'Enrollment' | 'Registration';
  check: RecordCheck;
  https: string;
}

/** DNS / CNAME validation: check the EnterpriseEnrollment and EnterpriseRegistration records, and show what to create. */
export function DnsPage() {
  const [configured, setConfigured] = useState<Domain[] | null>(null);
  const [domains, setDomains] = useState('');
  const [resolvers, setResolvers] = useState('');
  const [probe, setProbe] = useState(true);
  const [report, setReport] = useState<DnsReport | null>(null);
  const [records, setRecords] = useState<DnsRecords | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    get<Page<Domain>>('/domains', { limit: 200 })
      .then((p) => setConfigured(p.items))
      .catch((e: unknown) => setError(errorText(e)));
  }, []);

  const test = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const names = split(domains);
      const rs = split(resolvers);
      const r = await post<DnsReport>('/dns/check', {
        ...(names.length ? { domains: names } : {}),
        ...(rs.length ? { resolvers: rs } : {}),
        https: probe,
      });
      setReport(r);
      lastDnsReport = r;
      const checked = r.domains.map((d) => d.domain);
      setRecords(checked.length ? await get<DnsRecords>('/dns/records', { domain: checked.join(','), profile: r.profile }) : null);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const rows: Row[] = (report?.domains ?? []).flatMap((d) => {
    const https = d.https === null ? 'not probed' : `${d.https.ok ? 'ok' : 'failed'}${d.https.reason ? `: ${d.https.reason}` : ''}`;
    return [
      { key: `${d.domain}-e`, domain: d.domain, kind: 'Enrollment' as const, check: d.enrollment, https },
      { key: `${d.domain}-r`, domain: d.domain, kind: 'Registration' as const, check: d.registration, https: '' },
    ];
  });

  return (
    <>
      <p>
        Windows finds this server through <code>EnterpriseEnrollment.&lt;domain&gt;</code> (a CNAME to this server) and registers devices
        through <code>EnterpriseRegistration.&lt;domain&gt;</code>. Test them here.
      </p>
      <p className="muted">
        Configured domains: {configured === null ? 'loading…' : configured.length === 0 ? 'none' : configured.map((d) => d.name).join(', ')}
      </p>
      <form className="filters" aria-label="Test DNS records" onSubmit={test}>
        <Field label="Domains" hint="One or more, separated by spaces or commas; empty: every configured domain">
          {(a) => <input {...a} type="text" value={domains} onChange={(e) => setDomains(e.target.value)} />}
        </Field>
        <Field label="Resolvers" hint="Optional: ip or ip:port, several to compare; empty: the server's resolver">
          {(a) => <input {...a} type="text" value={resolvers} onChange={(e) => setResolvers(e.target.value)} />}
        </Field>
        <div className="field">
          <label>
            <input type="checkbox" checked={probe} onChange={(e) => setProbe(e.target.checked)} /> HTTPS probe
          </label>
        </div>
        <div className="field">
          <button type="submit" className="button-primary" disabled={busy}>
            {busy ? 'Testing…' : 'Test'}
          </button>
        </div>
      </form>
      <Status error={error}>{null}</Status>
      {report ? (
        <section aria-labelledby="dns-results">
          <h2 id="dns-results">Results</h2>
          <p role="status">
            {report.ok ? <Badge tone="ok">All ok</Badge> : <Badge tone="bad">Problems found</Badge>} Checked with{' '}
            {report.resolvers.length ? report.resolvers.join(', ') : "the server's resolver"}.
          </p>
          <DataTable<Row>
            caption="DNS records checked"
            rows={rows}
            rowKey={(r) => r.key}
            columns={[
              { header: 'Domain', cell: (r) => r.domain },
              { header: 'Record', cell: (r) => `${r.kind}: ${r.check.name}` },
              { header: 'Verdict', cell: (r) => <VerdictBadge verdict={r.check.verdict} /> },
              { header: 'Target', cell: (r) => <span className="mono">{r.check.target ?? '—'}</span> },
              { header: 'TTL', numeric: true, cell: (r) => (r.check.ttl === null ? '—' : `${r.check.ttl} s`) },
              { header: 'Reason', cell: (r) => r.check.reason },
              { header: 'HTTPS probe', cell: (r) => r.https },
            ]}
          />
          <p className="muted">{report.reminder}</p>
        </section>
      ) : null}
      {records ? (
        <section aria-labelledby="dns-records">
          <h2 id="dns-records">Records to create</h2>
          <DataTable
            caption="DNS records to create"
            rows={records.domains.flatMap((d) => d.records)}
            rowKey={(r) => r.name}
            columns={[
              { header: 'Name', cell: (r) => <span className="mono">{r.name}</span> },
              { header: 'Type', cell: (r) => r.type },
              { header: 'Target', cell: (r) => <span className="mono">{r.target}</span> },
              { header: 'TTL', numeric: true, cell: (r) => r.ttl },
              { header: 'Purpose', cell: (r) => `${r.purpose}${r.required ? '' : ' (optional)'}` },
            ]}
          />
          <Field label="Zone-file lines" hint="Paste into your DNS zone">
            {(a) => (
              <textarea {...a} className="mono" readOnly rows={records.lines.length + 1} cols={80} value={records.lines.join('\n')} />
            )}
          </Field>
          <CopyButton text={`${records.lines.join('\n')}\n`} label="Copy the zone-file lines" />
        </section>
      ) : null}
    </>
  );
}

/** The last report this console tab got (the enrollment methods page shows it when known; nothing is stored). */
export let lastDnsReport: DnsReport | null = null;
