import { type FormEvent, useEffect, useState } from 'react';
import { errorText, get, type Page } from '../../shared/api.ts';
import { Badge, DataTable, Field, When } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import { Link, navigate } from '../../shared/router.tsx';
import type { Device } from '../types.ts';
import { ComplianceBadge, OwnershipBadge, windowsName } from './badges.tsx';

const FILTERS = ['q', 'status', 'ownership', 'os', 'checkIn', 'compliance', 'managementMode'] as const;
type Filters = Record<(typeof FILTERS)[number], string>;
const PAGE_SIZE = 50;

function filtersFromUrl(): Filters {
  const q = new URLSearchParams(window.location.search);
  return Object.fromEntries(FILTERS.map((k) => [k, q.get(k) ?? ''])) as Filters;
}

function Select(props: { label: string; value: string; onChange: (v: string) => void; options: [string, string][] }) {
  return (
    <Field label={props.label}>
      {(a) => (
        <select {...a} value={props.value} onChange={(e) => props.onChange(e.target.value)}>
          {props.options.map(([v, t]) => (
            <option key={v} value={v}>
              {t}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}

/**
 * Devices, 50 a page, paged with the API's cursor (Previous walks back through the cursors already seen).
 * Filters live in the URL so a filtered list can be bookmarked and Back returns to it.
 */
export function DevicesPage() {
  const [filters, setFilters] = useState<Filters>(filtersFromUrl);
  const [draft, setDraft] = useState<Filters>(filters);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<Page<Device> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const cursor = cursors.at(-1);

  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(null);
    get<Page<Device>>('/devices', { ...filters, limit: PAGE_SIZE, cursor })
      .then((p) => {
        if (live) setPage(p);
      })
      .catch((e: unknown) => {
        if (live) setError(errorText(e));
      })
      .finally(() => {
        if (live) setLoading(false);
      });
    return () => {
      live = false;
    };
  }, [filters, cursor]);

  const apply = (e?: FormEvent) => {
    e?.preventDefault();
    const qs = new URLSearchParams(Object.entries(draft).filter(([, v]) => v !== '')).toString();
    navigate(qs ? `devices?${qs}` : 'devices', { replace: true });
    setCursors([undefined]);
    setFilters(draft);
  };
  const set = (k: keyof Filters) => (v: string) => setDraft((d) => ({ ...d, [k]: v }));
  const clear = () => {
    const empty = Object.fromEntries(FILTERS.map((k) => [k, ''])) as Filters;
    setDraft(empty);
    setCursors([undefined]);
    setFilters(empty);
    navigate('devices', { replace: true });
  };

  const rows = page?.items ?? [];
  const pageNo = cursors.length;
  return (
    <>
      <form className="filters" aria-label="Find devices" onSubmit={apply}>
        <Field label="Search" hint="Device name, DeviceID, serial number or user">
          {(a) => <input {...a} type="search" value={draft.q} onChange={(e) => set('q')(e.target.value)} />}
        </Field>
        <Select
          label="Status"
          value={draft.status}
          onChange={set('status')}
          options={[
            ['', 'Any'],
            ['enrolled', 'Enrolled'],
            ['unenrolled', 'Unenrolled'],
          ]}
        />
        <Select
          label="Ownership"
          value={draft.ownership}
          onChange={set('ownership')}
          options={[
            ['', 'Any'],
            ['corporate', 'Corporate'],
            ['personal', 'Personal'],
          ]}
        />
        <Select
          label="Operating system"
          value={draft.os}
          onChange={set('os')}
          options={[
            ['', 'Any'],
            ['windows11', 'Windows 11'],
            ['windows10', 'Windows 10'],
          ]}
        />
        <Select
          label="Last check-in"
          value={draft.checkIn}
          onChange={set('checkIn')}
          options={[
            ['', 'Any time'],
            ['24h', 'Within 24 hours'],
            ['7d', 'Within 7 days'],
            ['30d', 'Within 30 days'],
            ['stale7d', 'Not for 7 days or more'],
            ['stale30d', 'Not for 30 days or more'],
          ]}
        />
        <Select
          label="Compliance"
          value={draft.compliance}
          onChange={set('compliance')}
          options={[
            ['', 'Any'],
            ['compliant', 'Compliant'],
            ['noncompliant', 'Not compliant'],
            ['inGrace', 'In grace period'],
            ['unknown', 'Not evaluated'],
          ]}
        />
        <Select
          label="Management"
          value={draft.managementMode}
          onChange={set('managementMode')}
          options={[
            ['', 'Any'],
            ['mdm', 'Device management (MDM)'],
            ['mam', 'App protection only (MAM)'],
          ]}
        />
        <div className="field actions">
          <button type="submit" className="button-primary">
            Apply
          </button>
          <button type="button" onClick={clear}>
            Clear
          </button>
        </div>
      </form>
      <Status error={error} />
      <DataTable<Device>
        caption={loading ? 'Devices (loading…)' : `Devices, page ${pageNo}${rows.length ? `: ${rows.length} shown` : ''}`}
        loading={loading}
        rows={rows}
        rowKey={(d) => d.deviceId}
        empty="No device matches these filters."
        pageLabel={`Page ${pageNo}`}
        onPrevious={cursors.length > 1 ? () => setCursors((c) => c.slice(0, -1)) : undefined}
        onNext={page?.nextCursor ? () => setCursors((c) => [...c, page.nextCursor ?? undefined]) : undefined}
        columns={[
          {
            header: 'Device',
            cell: (d) => (
              <>
                <Link to={`devices/${encodeURIComponent(d.deviceId)}`}>{d.deviceName ?? d.deviceId}</Link>
                {d.warnings.length > 0 ? (
                  <>
                    {' '}
                    <Badge tone="warn">{d.warnings.length === 1 ? '1 warning' : `${d.warnings.length} warnings`}</Badge>
                  </>
                ) : null}
              </>
            ),
          },
          { header: 'Primary user', cell: (d) => d.primaryUser?.upn ?? <span className="muted">Shared</span> },
          { header: 'Ownership', cell: (d) => <OwnershipBadge ownership={d.ownership} /> },
          { header: 'OS', cell: (d) => windowsName(d.osVersion) },
          { header: 'Management', cell: (d) => (d.managementMode === 'mam' ? 'MAM' : 'MDM') },
          { header: 'Compliance', cell: (d) => <ComplianceBadge state={d.compliance} /> },
          { header: 'Last check-in', cell: (d) => <When iso={d.lastCheckInAt} /> },
          {
            header: 'Status',
            cell: (d) => (d.status === 'enrolled' ? <Badge tone="ok">Enrolled</Badge> : <Badge tone="neutral">Unenrolled</Badge>),
          },
        ]}
      />
    </>
  );
}
