/**
 * Small helpers for the console's editing forms: one action at a time with its outcome (the API's reason on
 * refusal), a confirmation step for destructive changes, and the read-only explanation.
 */
import { type ReactNode, useState } from 'react';
import { errorText } from '../../shared/api.ts';
import { ConfirmDialog } from '../../shared/components.tsx';
import { useSession } from '../app.tsx';
import { adminOnlyReason } from './licenses.tsx';

export interface Action {
  busy: boolean;
  error: string | null;
  ok: string | null;
  /** Why changes are not possible for this admin (undefined: administrator). */
  why: string | undefined;
  /** Runs a change; on success shows `done` and calls `after`; on refusal shows the API's reason. */
  run: (done: string, call: () => Promise<unknown>, after?: () => void) => Promise<boolean>;
  /** Asks first (a modal dialog), then runs. */
  confirm: (
    ask: { title: string; body: ReactNode; label: string; danger?: boolean },
    done: string,
    call: () => Promise<unknown>,
    after?: () => void,
  ) => void;
  /** The dialog and the outcome, to render once where the form is. */
  view: ReactNode;
}

export function useAction(label: string): Action {
  const session = useSession();
  const why = adminOnlyReason(session.role);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [ok, setOk] = useState<string | null>(null);
  const [pending, setPending] = useState<{
    title: string;
    body: ReactNode;
    label: string;
    danger: boolean;
    go: () => void;
  } | null>(null);

  const run = async (done: string, call: () => Promise<unknown>, after?: () => void) => {
    setBusy(true);
    setError(null);
    setOk(null);
    try {
      await call();
      setOk(done);
      after?.();
      return true;
    } catch (e) {
      setError(errorText(e));
      return false;
    } finally {
      setBusy(false);
    }
  };
  const confirm: Action['confirm'] = (ask, done, call, after) =>
    setPending({
      title: ask.title,
      body: ask.body,
      label: ask.label,
      danger: ask.danger ?? true,
      go: () => {
        void run(done, call, after).finally(() => setPending(null));
      },
    });
  const view = (
    <>
      <div data-outcome={label}>
        {error ? (
          <div className="alert alert-error" role="alert">
            Refused: {error}
          </div>
        ) : ok ? (
          <div className="alert alert-info" role="status">
            {ok}
          </div>
        ) : null}
      </div>
      <ConfirmDialog
        open={pending !== null}
        title={pending?.title ?? ''}
        confirmLabel={pending?.label ?? 'Confirm'}
        danger={pending?.danger ?? true}
        busy={busy}
        onConfirm={() => pending?.go()}
        onCancel={() => setPending(null)}
      >
        {pending?.body}
      </ConfirmDialog>
    </>
  );
  return { busy, error, ok, why, run, confirm, view };
}

/** The read-only explanation shown above a disabled form. */
export function ReadOnlyNote({ why }: { why: string | undefined }) {
  return why ? <p className="muted">{why}</p> : null;
}

/** A button that is disabled with its reason (as a tooltip and for assistive technology) for read-only admins. */
export function ActButton(props: {
  a: Action;
  onClick?: () => void;
  submit?: boolean;
  kind?: 'primary' | 'danger' | 'plain';
  children: ReactNode;
  label?: string;
}) {
  const off = props.a.why ?? (props.a.busy ? 'Working…' : undefined);
  const cls = props.kind === 'danger' ? 'button-danger' : props.kind === 'plain' ? undefined : 'button-primary';
  return (
    <button
      type={props.submit ? 'submit' : 'button'}
      className={cls}
      disabled={off !== undefined}
      title={off}
      aria-label={props.label}
      onClick={props.onClick}
    >
      {props.children}
    </button>
  );
}

export const enc = encodeURIComponent;
