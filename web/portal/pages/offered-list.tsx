/**
 * What the portal's "Available apps" and "Available profiles" sections share: the list the server offers for
 * a device (with whether this user may install and why not), an Install request per item, and the notice or
 * the server's refusal after it.
 */
import { useCallback, useEffect, useState } from 'react';
import { errorText } from '../../shared/api.ts';
import { portalApi } from '../portal-api.ts';

export interface OfferedList<T> {
  canInstall: boolean;
  reason: string | null;
  items: T[];
}

export function useOfferedList<T>(path: string) {
  const [list, setList] = useState<OfferedList<T> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const load = useCallback(() => {
    portalApi
      .get<OfferedList<T>>(path)
      .then(setList)
      .catch((e) => setError(errorText(e)));
  }, [path]);
  useEffect(load, [load]);

  /** POST `<path>/<key>/install`; on success `done` is the notice shown. */
  async function install(key: string, done: string): Promise<void> {
    setBusy(key);
    setError(null);
    try {
      await portalApi.post(`${path}/${encodeURIComponent(key)}/install`);
      setNotice(done);
      load();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(null);
    }
  }

  return { list, error, notice, busy, install };
}

/** The outcome of the last Install: a status notice, or the server's refusal as an alert. */
export function InstallOutcome({ notice, error }: { notice: string | null; error: string | null }) {
  return (
    <>
      {notice && (
        <p className="alert alert-info" role="status">
          {notice}
        </p>
      )}
      {error && (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
    </>
  );
}
