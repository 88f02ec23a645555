/** Enrollment restrictions: platform policies and device limits, by priority, with their settings and groups. */
import { Badge, DataTable, When } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import { getAll, useLoad } from './users.tsx';

interface Restriction {
  id: string;
  type: 'platform' | 'deviceLimit';
  name: string;
  priority: number | null;
  isDefault: boolean;
  config:
    | { windowsMdm: 'allow' | 'block'; minOsVersion: string | null; maxOsVersion: string | null; blockPersonal: boolean }
    | { limit: number };
  groups: { id: string; name: string }[];
  updatedAt: string;
}

function settingsText(r: Restriction): string {
  const c = r.config;
  if ('limit' in c) return `Up to ${c.limit} device${c.limit === 1 ? '' : 's'} per user`;
  const parts = [`Windows MDM ${c.windowsMdm === 'allow' ? 'allowed' : 'blocked'}`];
  if (c.minOsVersion || c.maxOsVersion) parts.push(`Windows ${c.minOsVersion ?? 'any'} to ${c.maxOsVersion ?? 'any'}`);
  parts.push(c.blockPersonal ? 'personal devices blocked' : 'personal devices allowed');
  return parts.join('; ');
}

export function RestrictionsPage() {
  const { data, error } = useLoad(() => getAll<Restriction>('/restrictions'), []);
  const table = (type: Restriction['type'], caption: string) => (
    <DataTable
      caption={caption}
      loading={!data && !error}
      rows={(data ?? []).filter((r) => r.type === type)}
      rowKey={(r) => r.id}
      empty="None."
      columns={[
        { header: 'Priority', cell: (r) => (r.isDefault ? <Badge tone="neutral">Default</Badge> : r.priority), numeric: true },
        { header: 'Name', cell: (r) => r.name },
        { header: 'Settings', cell: settingsText },
        {
          header: 'Assigned to',
          cell: (r) =>
            r.isDefault ? (
              'Everyone else'
            ) : r.groups.length ? (
              r.groups.map((g) => g.name).join(', ')
            ) : (
              <span className="muted">No groups</span>
            ),
        },
        { header: 'Changed', cell: (r) => <When iso={r.updatedAt} /> },
      ]}
    />
  );
  return (
    <>
      <p>The highest-priority restriction (1 = highest) assigned to one of the user’s groups applies; otherwise the default.</p>
      <Status error={error}>{data ? null : 'Loading…'}</Status>
      {table('platform', 'Platform restrictions')}
      {table('deviceLimit', 'Device limit restrictions')}
    </>
  );
}
