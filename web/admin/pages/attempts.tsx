import { Badge, DataTable, When } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import { Link } from '../../shared/router.tsx';
import type { EnrollmentAttempt } from '../types.ts';
import { FilterForm, filtersFromUrl, SelectFilter, TextFilter, useFilteredList } from './filtered-log.tsx';

const OUTCOME = {
  mdm: { tone: 'ok', text: 'Enrolled (MDM)' },
  mam: { tone: 'ok', text: 'Registered (MAM)' },
  refused: { tone: 'bad', text: 'Refused' },
} as const;

/** Every enrollment attempt, newest first, with its reasons and the TraceID the device showed. */
export function AttemptsPage() {
  const list = useFilteredList<EnrollmentAttempt, 'upn' | 'outcome' | 'deviceId'>(
    '/enrollment-attempts',
    () => filtersFromUrl(['upn', 'outcome', 'deviceId']),
    { route: 'enrollment-attempts' },
  );
  return (
    <>
      <FilterForm label="Filter attempts" onSubmit={list.apply}>
        <TextFilter label="User (UPN)" value={list.draft.upn} onChange={list.set('upn')} />
        <TextFilter label="DeviceID" value={list.draft.deviceId} onChange={list.set('deviceId')} />
        <SelectFilter
          label="Outcome"
          value={list.draft.outcome}
          onChange={list.set('outcome')}
          options={[
            ['', 'Any'],
            ['mdm', 'Enrolled (MDM)'],
            ['mam', 'Registered (MAM)'],
            ['refused', 'Refused'],
          ]}
        />
      </FilterForm>
      <Status error={list.error} />
      <DataTable<EnrollmentAttempt>
        caption={`Enrollment attempts, page ${list.pageNo}`}
        loading={list.loading}
        rows={list.rows}
        rowKey={(a) => a.id}
        empty="No attempts match."
        {...list.paging}
        columns={[
          { header: 'When', cell: (a) => <When iso={a.at} /> },
          { header: 'User', cell: (a) => a.upn ?? '—' },
          {
            header: 'Device',
            cell: (a) => (a.deviceId ? <Link to={`devices/${encodeURIComponent(a.deviceId)}`}>{a.deviceId}</Link> : '—'),
          },
          { header: 'Method', cell: (a) => `${a.method}${a.ownership ? `, ${a.ownership}` : ''}` },
          {
            header: 'Outcome',
            cell: (a) => (
              <>
                <Badge tone={OUTCOME[a.outcome].tone}>{OUTCOME[a.outcome].text}</Badge>
                {a.errorType ? <div className="mono">{a.errorType}</div> : null}
              </>
            ),
          },
          {
            header: 'Why',
            cell: (a) => (
              <ul className="warning-list">
                {a.reasons.map((r) => (
                  <li key={r}>{r}</li>
                ))}
              </ul>
            ),
          },
          { header: 'TraceID', cell: (a) => <span className="mono">{a.traceId}</span> },
        ]}
      />
    </>
  );
}
