/**
 * Enroll this device: the steps, the ms-device-enrollment link that opens Windows' enrollment with the
 * fields filled in, and a QR code of the same link for another screen. The Windows version comes from the
 * User-Agent client hints where the browser offers them (any Chromium-based browser, not only Edge).
 */
import { useEffect, useState } from 'react';
import { errorText } from '../../shared/api.ts';
import { Status } from '../../shared/layout.tsx';
import { Link } from '../../shared/router.tsx';
import { type EnrollInfo, portalApi } from '../portal-api.ts';

interface UaData {
  platform?: string;
  getHighEntropyValues?: (hints: string[]) => Promise<{ platform?: string; platformVersion?: string }>;
}

/** Windows 11 reports platform version 13 or later, Windows 10 1 to 10. */
function release(platformVersion: string): string {
  const major = Number(platformVersion.split('.')[0]);
  return major >= 13 ? 'Windows 11' : major >= 1 ? 'Windows 10' : 'an earlier Windows';
}

function useClientWindows(server: EnrollInfo['thisDevice']): string | null {
  const [text, setText] = useState<string | null>(null);
  useEffect(() => {
    const ua = (navigator as Navigator & { userAgentData?: UaData }).userAgentData;
    if (ua?.getHighEntropyValues) {
      ua.getHighEntropyValues(['platformVersion'])
        .then((v) => {
          if (v.platform === 'Windows' && v.platformVersion)
            setText(`This browser runs on ${release(v.platformVersion)} (platform version ${v.platformVersion}).`);
          else if (v.platform) setText(`This browser runs on ${v.platform}: open this page on the Windows PC you want to enroll.`);
        })
        .catch(() => {});
    } else if (server?.windows && server.release && server.platformVersion) {
      setText(`This browser runs on ${server.release} (platform version ${server.platformVersion}).`);
    }
  }, [server]);
  return text;
}

export function Enroll() {
  const [info, setInfo] = useState<EnrollInfo | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    portalApi
      .get<EnrollInfo>('/enroll')
      .then(setInfo)
      .catch((e) => setError(errorText(e)));
  }, []);
  const windows = useClientWindows(info?.thisDevice ?? null);
  if (!info) return <Status error={error}>Loading…</Status>;
  return (
    <>
      {windows ? <p>{windows}</p> : null}
      <p>
        Before you start, read <Link to="privacy?ownership=personal">what your organisation can see on your device</Link>.
      </p>
      <section aria-labelledby="steps-h">
        <h2 id="steps-h">Steps</h2>
        <ol>
          {info.steps.map((s) => (
            <li key={s}>{s}</li>
          ))}
        </ol>
      </section>
      <section aria-labelledby="link-h">
        <h2 id="link-h">Start enrollment on this PC</h2>
        <p>
          <a className="button button-primary" href={info.link}>
            Enroll this device
          </a>
        </p>
        <p className="muted">
          Opens Windows enrollment with your account <span className="mono">{info.upn}</span> and the server{' '}
          <span className="mono">{info.serverName}</span> filled in.
        </p>
      </section>
      <section aria-labelledby="qr-h">
        <h2 id="qr-h">Or scan on another device</h2>
        <img
          className="qr"
          width={200}
          height={200}
          src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(info.qrSvg)}`}
          alt={`QR code of the enrollment link ${info.link}`}
        />
      </section>
    </>
  );
}
