import { type FormEvent, useEffect, useState } from 'react';
import { errorText, get, type Page } from '../../shared/api.ts';
import { Badge, DataTable, Field, When } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import { Link, navigate } from '../../shared/router.tsx';
import type { EnrollmentAttempt } from '../types.ts';

const OUTCOME = {
  mdm: { tone: 'ok', text: 'Enrolled (MDM)' },
  mam: { tone: 'ok', text: 'Registered (MAM)' },
  refused: { tone: 'bad', text: 'Refused' },
} as const;

/** Every enrollment attempt, newest first, with its reasons and the TraceID the device showed. */
export function AttemptsPage() {
  const initial = new URLSearchParams(window.location.search);
  const [filters, setFilters] = useState({
    upn: initial.get('upn') ?? '',
    outcome: initial.get('outcome') ?? '',
    deviceId: initial.get('deviceId') ?? '',
  });
  const [draft, setDraft] = useState(filters);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<Page<EnrollmentAttempt> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const cursor = cursors.at(-1);

  useEffect(() => {
    let live = true;
    setLoading(true);
    get<Page<EnrollmentAttempt>>('/enrollment-attempts', { ...filters, limit: 50, cursor })
      .then((p) => live && setPage(p))
      .catch((e: unknown) => live && setError(errorText(e)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [filters, cursor]);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    const qs = new URLSearchParams(Object.entries(draft).filter(([, v]) => v !== '')).toString();
    navigate(qs ? `enrollment-attempts?${qs}` : 'enrollment-attempts', { replace: true });
    setCursors([undefined]);
    setError(null);
    setFilters(draft);
  };

  return (
    <>
      <form className="filters" aria-label="Filter attempts" onSubmit={apply}>
        <Field label="User (UPN)">
          {(a) => <input {...a} type="search" value={draft.upn} onChange={(e) => setDraft({ ...draft, upn: e.target.value })} />}
        </Field>
        <Field label="DeviceID">
          {(a) => <input {...a} type="search" value={draft.deviceId} onChange={(e) => setDraft({ ...draft, deviceId: e.target.value })} />}
        </Field>
        <Field label="Outcome">
          {(a) => (
            <select {...a} value={draft.outcome} onChange={(e) => setDraft({ ...draft, outcome: e.target.value })}>
              <option value="">Any</option>
              <option value="mdm">Enrolled (MDM)</option>
              <option value="mam">Registered (MAM)</option>
              <option value="refused">Refused</option>
            </select>
          )}
        </Field>
        <div className="field">
          <button type="submit" className="button-primary">
            Apply
          </button>
        </div>
      </form>
      <Status error={error} />
      <DataTable<EnrollmentAttempt>
        caption={`Enrollment attempts, page ${cursors.length}`}
        loading={loading}
        rows={page?.items ?? []}
        rowKey={(a) => a.id}
        empty="No attempts match."
        pageLabel={`Page ${cursors.length}`}
        onPrevious={cursors.length > 1 ? () => setCursors((c) => c.slice(0, -1)) : undefined}
        onNext={page?.nextCursor ? () => setCursors((c) => [...c, page.nextCursor ?? undefined]) : undefined}
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
