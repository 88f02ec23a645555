/** My devices: the devices the signed-in user uses, and how they relate to each. */
import { useEffect, useState } from 'react';
import { errorText } from '../../shared/api.ts';
import { Badge, DataTable, When } from '../../shared/components.tsx';
import { Status } from '../../shared/layout.tsx';
import { Link } from '../../shared/router.tsx';
import { type DeviceSummary, RELATION_TEXT, deviceTitle, portalApi } from '../portal-api.ts';

export function MyDevices() {
  const [rows, setRows] = useState<DeviceSummary[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    portalApi
      .get<{ items: DeviceSummary[] }>('/devices')
      .then((r) => setRows(r.items))
      .catch((e) => setError(errorText(e)));
  }, []);
  return (
    <>
      <Status error={error} />
      <p>
        Not listed? <Link to="enroll">Enroll this device</Link>.
      </p>
      <DataTable
        caption="Your devices"
        loading={rows === null && !error}
        rows={rows ?? []}
        rowKey={(d) => d.deviceId}
        empty="You have no enrolled devices yet."
        columns={[
          { header: 'Device', cell: (d) => <Link to={`devices/${encodeURIComponent(d.deviceId)}`}>{deviceTitle(d)}</Link> },
          { header: 'Windows', cell: (d) => d.osVersion ?? 'not reported yet' },
          { header: 'Ownership', cell: (d) => <Badge tone={d.ownership === 'corporate' ? 'info' : 'neutral'}>{d.ownership}</Badge> },
          { header: 'You', cell: (d) => RELATION_TEXT[d.relation] },
          { header: 'Last check-in', cell: (d) => <When iso={d.lastCheckInAt} /> },
        ]}
      />
    </>
  );
}
