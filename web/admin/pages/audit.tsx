import { Badge, DataTable, When } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import type { AuditEntry } from '../types.ts';
import { FilterForm, SelectFilter, TextFilter, useFilteredList } from './filtered-log.tsx';

/** Who acted, as the log shows it: end users (Company Portal actions) are named as such. */
function who(e: AuditEntry): string {
  return e.actor?.kind === 'user' ? `End user ${e.actor.upn}` : e.actorName;
}

/** The audit log, newest first (administrators and read-only admins; the API refuses help desk). */
export function AuditPage() {
  const list = useFilteredList<AuditEntry, 'actor' | 'actorKind' | 'targetType' | 'targetId'>('/audit', () => ({
    actor: '',
    actorKind: '',
    targetType: '',
    targetId: '',
  }));
  return (
    <>
      <FilterForm label="Filter the audit log" onSubmit={list.apply}>
        <TextFilter label="Who" value={list.draft.actor} onChange={list.set('actor')} />
        <SelectFilter
          label="Kind of actor"
          value={list.draft.actorKind}
          onChange={list.set('actorKind')}
          options={[
            ['', 'Any'],
            ['admin', 'Admin'],
            ['token', 'API token'],
            ['cli', 'CLI'],
            ['user', 'End user'],
          ]}
        />
        <TextFilter
          label="Target type"
          hint="device, user, group, profile, settings…"
          value={list.draft.targetType}
          onChange={list.set('targetType')}
        />
        <TextFilter label="Target" hint="DeviceID, UPN, name…" value={list.draft.targetId} onChange={list.set('targetId')} />
      </FilterForm>
      <Status error={list.error} />
      <DataTable<AuditEntry>
        caption={`Audit log, page ${list.pageNo}`}
        loading={list.loading}
        rows={list.rows}
        rowKey={(e) => e.id}
        empty="No entries match."
        {...list.paging}
        columns={[
          { header: 'When', cell: (e) => <When iso={e.at} /> },
          { header: 'Who', cell: who },
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
