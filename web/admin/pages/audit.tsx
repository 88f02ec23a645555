import { type FormEvent, useEffect, useState } from 'react';
import { errorText, get, type Page } from '../../shared/api.ts';
import { Badge, DataTable, Field, When } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import type { AuditEntry } from '../types.ts';

/** The audit log, newest first (administrators and read-only admins; the API refuses help desk). */
export function AuditPage() {
  const [filters, setFilters] = useState({ actor: '', targetType: '', targetId: '' });
  const [draft, setDraft] = useState(filters);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<Page<AuditEntry> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const cursor = cursors.at(-1);

  useEffect(() => {
    let live = true;
    setLoading(true);
    get<Page<AuditEntry>>('/audit', { ...filters, limit: 50, cursor })
      .then((p) => live && setPage(p))
      .catch((e: unknown) => live && setError(errorText(e)))
      .finally(() => live && setLoading(false));
    return () => {
      live = false;
    };
  }, [filters, cursor]);

  const apply = (e: FormEvent) => {
    e.preventDefault();
    setCursors([undefined]);
    setError(null);
    setFilters(draft);
  };

  return (
    <>
      <form className="filters" aria-label="Filter the audit log" onSubmit={apply}>
        <Field label="Who">
          {(a) => <input {...a} type="search" value={draft.actor} onChange={(e) => setDraft({ ...draft, actor: e.target.value })} />}
        </Field>
        <Field label="Target type" hint="device, user, group, profile, settings…">
          {(a) => (
            <input {...a} type="search" value={draft.targetType} onChange={(e) => setDraft({ ...draft, targetType: e.target.value })} />
          )}
        </Field>
        <Field label="Target" hint="DeviceID, UPN, name…">
          {(a) => <input {...a} type="search" value={draft.targetId} onChange={(e) => setDraft({ ...draft, targetId: e.target.value })} />}
        </Field>
        <div className="field">
          <button type="submit" className="button-primary">
            Apply
          </button>
        </div>
      </form>
      <Status error={error} />
      <DataTable<AuditEntry>
        caption={`Audit log, page ${cursors.length}`}
        loading={loading}
        rows={page?.items ?? []}
        rowKey={(e) => e.id}
        empty="No entries match."
        pageLabel={`Page ${cursors.length}`}
        onPrevious={cursors.length > 1 ? () => setCursors((c) => c.slice(0, -1)) : undefined}
        onNext={page?.nextCursor ? () => setCursors((c) => [...c, page.nextCursor ?? undefined]) : undefined}
        columns={[
          { header: 'When', cell: (e) => <When iso={e.at} /> },
          { header: 'Who', cell: (e) => e.actorName },
          { header: 'Action', cell: (e) => <span className="mono">{e.action}</span> },
          { header: 'Target', cell: (e) => `${e.targetType}${e.targetId ? `: ${e.targetId}` : ''}` },
          {
            header: 'Outcome',
            cell: (e) => (
              <>
                <Badge tone={e.outcome === 'succeeded' ? 'ok' : e.outcome === 'failed' ? 'bad' : 'warn'}>{e.outcome}</Badge>
                {e.error ? <div>{e.error}</div> : null}
              </>
            ),
          },
          { header: 'TraceID', cell: (e) => <span className="mono">{e.traceId ?? '—'}</span> },
        ]}
      />
    </>
  );
}
