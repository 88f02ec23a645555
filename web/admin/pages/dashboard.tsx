import { useEffect, useState } from 'react';
import { errorText, get } from '../../shared/api.ts';
import { Status } from '../../shared/layout.tsx';
import { Link } from '../../shared/router.tsx';
import type { Dashboard } from '../types.ts';

export function DashboardPage() {
  const [data, setData] = useState<Dashboard | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    get<Dashboard>('/dashboard')
      .then(setData)
      .catch((e: unknown) => setError(errorText(e)));
  }, []);
  if (!data) return <Status error={error}>{error ? null : 'Loading…'}</Status>;
  const d = data.devices;
  return (
    <>
      <h2>Devices</h2>
      <ul className="cards" aria-label="Device counts">
        <Card label="Enrolled devices" value={d.total} to="devices?status=enrolled" />
        <Card label="Corporate" value={d.corporate} to="devices?status=enrolled&ownership=corporate" />
        <Card label="Personal" value={d.personal} to="devices?status=enrolled&ownership=personal" />
        <Card label="Device management (MDM)" value={d.mdm} to="devices?status=enrolled&managementMode=mdm" />
        <Card label="App protection only (MAM)" value={d.mam} to="devices?status=enrolled&managementMode=mam" />
      </ul>
      <h2>Enrollments in the last 24 hours</h2>
      <ul className="cards" aria-label="Enrollment counts">
        <Card label="Enrolled" value={data.last24h.enrolled} to="enrollment-attempts" />
        <Card label="Failed" value={data.last24h.failed} to="enrollment-attempts?outcome=refused" />
      </ul>
      <HourlyChart byHour={data.last24h.byHour} />
    </>
  );
}

function Card({ label, value, to }: { label: string; value: number; to: string }) {
  return (
    <li className="card">
      <span className="value">{value.toLocaleString()}</span>
      <Link to={to} className="label">
        {label}
      </Link>
    </li>
  );
}

/** Stacked bars per hour (enrolled, failed), drawn as inline SVG; the same numbers are in a table for screen readers. */
function HourlyChart({ byHour }: { byHour: Dashboard['last24h']['byHour'] }) {
  const W = 600;
  const H = 160;
  const top = 10;
  const bottom = 24;
  const left = 28;
  const max = Math.max(1, ...byHour.map((b) => b.enrolled + b.failed));
  const bw = (W - left) / Math.max(1, byHour.length);
  const y = (n: number) => ((H - top - bottom) * n) / max;
  const hourLabel = (iso: string) => `${new Date(iso).getHours().toString().padStart(2, '0')}:00`;
  return (
    <figure>
      <svg className="chart" viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby="chart-title">
        <title id="chart-title">Enrollment attempts per hour over the last 24 hours: enrolled in blue, failed in red</title>
        <line x1={left} x2={W} y1={H - bottom} y2={H - bottom} stroke="#6b7480" />
        <text x={left - 4} y={top + 8} textAnchor="end">
          {max}
        </text>
        <text x={left - 4} y={H - bottom} textAnchor="end">
          0
        </text>
        {byHour.map((b, i) => {
          const x = left + i * bw + 1;
          const he = y(b.enrolled);
          const hf = y(b.failed);
          return (
            <g key={b.hour}>
              <rect x={x} width={bw - 2} y={H - bottom - he} height={he} fill="#0b5cad" />
              <rect x={x} width={bw - 2} y={H - bottom - he - hf} height={hf} fill="#b3261e" />
              {i % 4 === 0 ? (
                <text x={x + bw / 2} y={H - 8} textAnchor="middle">
                  {hourLabel(b.hour)}
                </text>
              ) : null}
            </g>
          );
        })}
      </svg>
      <figcaption className="muted">
        <span className="legend legend-enrolled">Enrolled</span> <span className="legend legend-failed">Failed</span> — times in your time
        zone.
      </figcaption>
      <details>
        <summary>Show the numbers</summary>
        <table className="data-table">
          <caption>Enrollment attempts per hour</caption>
          <thead>
            <tr>
              <th scope="col">Hour</th>
              <th scope="col" className="num">
                Enrolled
              </th>
              <th scope="col" className="num">
                Failed
              </th>
            </tr>
          </thead>
          <tbody>
            {byHour.map((b) => (
              <tr key={b.hour}>
                <td>{new Date(b.hour).toLocaleString()}</td>
                <td className="num">{b.enrolled}</td>
                <td className="num">{b.failed}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </figure>
  );
}
