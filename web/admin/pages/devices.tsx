import { Badge, DataTable, When } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import { Link } from '../../shared/router.tsx';
import type { Device } from '../types.ts';
import { ComplianceBadge, OwnershipBadge, windowsName } from './badges.tsx';
import { FilterForm, filtersFromUrl, SelectFilter, TextFilter, useFilteredList } from './filtered-log.tsx';

const FILTERS = ['q', 'status', 'ownership', 'os', 'checkIn', 'compliance', 'managementMode'] as const;
type Key = (typeof FILTERS)[number];

/** The select filters, in the form's order: [filter, label, options]. */
const SELECTS: [Key, string, [string, string][]][] = [
  [
    'status',
    'Status',
    [
      ['', 'Any'],
      ['enrolled', 'Enrolled'],
      ['unenrolled', 'Unenrolled'],
    ],
  ],
  [
    'ownership',
    'Ownership',
    [
      ['', 'Any'],
      ['corporate', 'Corporate'],
      ['personal', 'Personal'],
    ],
  ],
  [
    'os',
    'Operating system',
    [
      ['', 'Any'],
      ['windows11', 'Windows 11'],
      ['windows10', 'Windows 10'],
    ],
  ],
  [
    'checkIn',
    'Last check-in',
    [
      ['', 'Any time'],
      ['24h', 'Within 24 hours'],
      ['7d', 'Within 7 days'],
      ['30d', 'Within 30 days'],
      ['stale7d', 'Not for 7 days or more'],
      ['stale30d', 'Not for 30 days or more'],
    ],
  ],
  [
    'compliance',
    'Compliance',
    [
      ['', 'Any'],
      ['compliant', 'Compliant'],
      ['noncompliant', 'Not compliant'],
      ['inGrace', 'In grace period'],
      ['unknown', 'Not evaluated'],
    ],
  ],
  [
    'managementMode',
    'Management',
    [
      ['', 'Any'],
      ['mdm', 'Device management (MDM)'],
      ['mam', 'App protection only (MAM)'],
    ],
  ],
];

/**
 * Devices, 50 a page, paged with the API's cursor (Previous walks back through the cursors already seen).
 * Filters live in the URL so a filtered list can be bookmarked and Back returns to it.
 */
export function DevicesPage() {
  const list = useFilteredList<Device, Key>('/devices', () => filtersFromUrl(FILTERS), { route: 'devices' });
  const clear = () => list.reset(Object.fromEntries(FILTERS.map((k) => [k, ''])) as Record<Key, string>);
  const { rows, loading, pageNo } = list;
  return (
    <>
      <FilterForm label="Find devices" onSubmit={list.apply} onClear={clear}>
        <TextFilter label="Search" hint="Device name, DeviceID, serial number or user" value={list.draft.q} onChange={list.set('q')} />
        {SELECTS.map(([k, label, options]) => (
          <SelectFilter key={k} label={label} value={list.draft[k]} onChange={list.set(k)} options={options} />
        ))}
      </FilterForm>
      <Status error={list.error} />
      <DataTable<Device>
        caption={loading ? 'Devices (loading…)' : `Devices, page ${pageNo}${rows.length ? `: ${rows.length} shown` : ''}`}
        loading={loading}
        rows={rows}
        rowKey={(d) => d.deviceId}
        empty="No device matches these filters."
        {...list.paging}
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
