/** Small accessible building blocks shared by the console and the portal. */
import { type ReactNode, useEffect, useId, useRef } from 'react';

/** A labelled input/select with hint and error text tied to it by aria-describedby. */
export function Field(props: {
  label: string;
  hint?: string | undefined;
  error?: string | undefined;
  children: (a11y: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean }) => ReactNode;
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errId = `${id}-error`;
  const describedBy = [props.hint ? hintId : '', props.error ? errId : ''].filter(Boolean).join(' ');
  return (
    <div className={`field${props.error ? ' field-invalid' : ''}`}>
      <label htmlFor={id}>{props.label}</label>
      {props.hint ? (
        <span className="field-hint" id={hintId}>
          {props.hint}
        </span>
      ) : null}
      {props.children({
        id,
        ...(describedBy ? { 'aria-describedby': describedBy } : {}),
        ...(props.error ? { 'aria-invalid': true } : {}),
      })}
      {props.error ? (
        <span className="field-error" id={errId}>
          {props.error}
        </span>
      ) : null}
    </div>
  );
}

export type Tone = 'ok' | 'warn' | 'bad' | 'info' | 'neutral';

/** A status badge: colour plus text (never colour alone). */
export function Badge({ tone, children }: { tone: Tone; children: ReactNode }) {
  return <span className={`badge badge-${tone}`}>{children}</span>;
}

export interface Column<T> {
  header: string;
  cell: (row: T) => ReactNode;
  /** Right-aligned numbers. */
  numeric?: boolean;
}

/** A table with a caption, column headers and cursor paging (Previous / Next). */
export function DataTable<T>(props: {
  caption: string;
  columns: Column<T>[];
  rows: T[];
  rowKey: (row: T) => string;
  empty?: string;
  loading?: boolean;
  onNext?: (() => void) | undefined;
  onPrevious?: (() => void) | undefined;
  pageLabel?: string;
}) {
  return (
    <div className="table-wrap">
      <table className="data-table" aria-busy={props.loading ? true : undefined}>
        <caption>{props.caption}</caption>
        <thead>
          <tr>
            {props.columns.map((c) => (
              <th key={c.header} scope="col" className={c.numeric ? 'num' : undefined}>
                {c.header}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {props.rows.length === 0 ? (
            <tr>
              <td colSpan={props.columns.length} className="empty">
                {props.loading ? 'Loading…' : (props.empty ?? 'Nothing to show.')}
              </td>
            </tr>
          ) : (
            props.rows.map((r) => (
              <tr key={props.rowKey(r)}>
                {props.columns.map((c) => (
                  <td key={c.header} className={c.numeric ? 'num' : undefined}>
                    {c.cell(r)}
                  </td>
                ))}
              </tr>
            ))
          )}
        </tbody>
      </table>
      {props.onNext || props.onPrevious ? (
        <nav className="pager" aria-label={`${props.caption} pages`}>
          <button type="button" onClick={props.onPrevious} disabled={!props.onPrevious}>
            Previous page
          </button>
          {props.pageLabel ? <span aria-live="polite">{props.pageLabel}</span> : null}
          <button type="button" onClick={props.onNext} disabled={!props.onNext}>
            Next page
          </button>
        </nav>
      ) : null}
    </div>
  );
}

/**
 * A modal confirmation built on the native <dialog> (focus trap, Escape and inert background come from the
 * browser). `danger` styles the confirm button for destructive actions.
 */
export function ConfirmDialog(props: {
  open: boolean;
  title: string;
  children: ReactNode;
  confirmLabel: string;
  danger?: boolean;
  busy?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog
      ref={ref}
      className="dialog"
      aria-labelledby={titleId}
      onCancel={(e) => {
        e.preventDefault();
        props.onCancel();
      }}
    >
      <h2 id={titleId}>{props.title}</h2>
      <div className="dialog-body">{props.children}</div>
      <div className="dialog-actions">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="button" className={props.danger ? 'button-danger' : 'button-primary'} onClick={props.onConfirm} disabled={props.busy}>
          {props.confirmLabel}
        </button>
      </div>
    </dialog>
  );
}

/** "3 minutes ago" style relative time with the exact time in a tooltip and <time>. */
export function When({ iso }: { iso: string | null | undefined }) {
  if (!iso) return <span>never</span>;
  const d = new Date(iso);
  return (
    <time dateTime={iso} title={d.toLocaleString()}>
      {relative(d)}
    </time>
  );
}

export function relative(d: Date, now = Date.now()): string {
  const s = Math.round((now - d.getTime()) / 1000);
  const abs = Math.abs(s);
  const f = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  const text =
    abs < 60
      ? 'just now'
      : abs < 3600
        ? f(Math.floor(abs / 60), 'minute')
        : abs < 86400
          ? f(Math.floor(abs / 3600), 'hour')
          : f(Math.floor(abs / 86400), 'day');
  if (text === 'just now') return text;
  return s >= 0 ? `${text} ago` : `in ${text}`;
}
