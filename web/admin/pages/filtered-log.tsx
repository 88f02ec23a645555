/**
 * What the devices, enrollment attempts and audit pages share: filters drafted in a form and applied to a
 * cursor-paged API list (Previous walks back through the cursors already seen), optionally mirrored in the
 * URL so a filtered list can be bookmarked and Back returns to it.
 */
import { type FormEvent, type ReactNode, useEffect, useState } from 'react';
import { errorText, get, type Page } from '../../shared/api.ts';
import { Field } from '../../shared/components.tsx';
import { navigate } from '../../shared/router.tsx';

export type Filters<K extends string> = Record<K, string>;

/** The filters named `keys` as the current URL gives them ('' when absent). */
export function filtersFromUrl<K extends string>(keys: readonly K[]): Filters<K> {
  const q = new URLSearchParams(window.location.search);
  return Object.fromEntries(keys.map((k) => [k, q.get(k) ?? ''])) as Filters<K>;
}

export interface FilteredList<T, K extends string> {
  draft: Filters<K>;
  /** A setter for one drafted filter, for an input's onChange. */
  set: (k: K) => (v: string) => void;
  /** Applies the draft: back to page 1 (and into the URL when the list has a route). */
  apply: (e?: FormEvent) => void;
  /** Drafts and applies these filters at once (Clear). */
  reset: (next: Filters<K>) => void;
  rows: T[];
  loading: boolean;
  error: string | null;
  pageNo: number;
  /** DataTable's paging props. */
  paging: { pageLabel: string; onPrevious: (() => void) | undefined; onNext: (() => void) | undefined };
}

/** `GET path` with the applied filters, `pageSize` a page; `route` (e.g. 'devices') keeps the filters in the URL. */
export function useFilteredList<T, K extends string>(
  path: string,
  initial: () => Filters<K>,
  opts: { route?: string; pageSize?: number } = {},
): FilteredList<T, K> {
  const [filters, setFilters] = useState<Filters<K>>(initial);
  const [draft, setDraft] = useState<Filters<K>>(filters);
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  const [page, setPage] = useState<Page<T> | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const cursor = cursors.at(-1);
  const pageSize = opts.pageSize ?? 50;

  useEffect(() => {
    let live = true;
    setLoading(true);
    setError(null);
    get<Page<T>>(path, { ...filters, limit: pageSize, cursor })
      .then((p) => {
        if (live) setPage(p);
      })
      .catch((e: unknown) => {
        if (live) setError(errorText(e));
      })
      .finally(() => {
        if (live) setLoading(false);
      });
    return () => {
      live = false;
    };
  }, [path, pageSize, filters, cursor]);

  const applyFilters = (next: Filters<K>) => {
    if (opts.route) {
      const qs = new URLSearchParams(Object.entries<string>(next).filter(([, v]) => v !== '')).toString();
      navigate(qs ? `${opts.route}?${qs}` : opts.route, { replace: true });
    }
    setCursors([undefined]);
    setFilters(next);
  };
  const pageNo = cursors.length;
  return {
    draft,
    set: (k) => (v) => setDraft((d) => ({ ...d, [k]: v })),
    apply: (e) => {
      e?.preventDefault();
      applyFilters(draft);
    },
    reset: (next) => {
      setDraft(next);
      applyFilters(next);
    },
    rows: page?.items ?? [],
    loading,
    error,
    pageNo,
    paging: {
      pageLabel: `Page ${pageNo}`,
      onPrevious: pageNo > 1 ? () => setCursors((c) => c.slice(0, -1)) : undefined,
      onNext: page?.nextCursor ? () => setCursors((c) => [...c, page.nextCursor ?? undefined]) : undefined,
    },
  };
}

/** The filter form: its fields, then Apply (and Clear when `onClear` is given). */
export function FilterForm(props: { label: string; onSubmit: (e: FormEvent) => void; onClear?: () => void; children: ReactNode }) {
  return (
    <form className="filters" aria-label={props.label} onSubmit={props.onSubmit}>
      {props.children}
      <div className={props.onClear ? 'field actions' : 'field'}>
        <button type="submit" className="button-primary">
          Apply
        </button>
        {props.onClear ? (
          <button type="button" onClick={props.onClear}>
            Clear
          </button>
        ) : null}
      </div>
    </form>
  );
}

/** A labelled search box bound to one filter. */
export function TextFilter(props: { label: string; hint?: string; value: string; onChange: (v: string) => void }) {
  return (
    <Field label={props.label} hint={props.hint}>
      {(a) => <input {...a} type="search" value={props.value} onChange={(e) => props.onChange(e.target.value)} />}
    </Field>
  );
}

/** A labelled select bound to one filter; options are [value, text] ('' first for "any"). */
export function SelectFilter(props: { label: string; value: string; onChange: (v: string) => void; options: [string, string][] }) {
  return (
    <Field label={props.label}>
      {(a) => (
        <select {...a} value={props.value} onChange={(e) => props.onChange(e.target.value)}>
          {props.options.map(([v, t]) => (
            <option key={v} value={v}>
              {t}
            </option>
          ))}
        </select>
      )}
    </Field>
  );
}
