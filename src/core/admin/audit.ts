/**
 * The audit log: who changed what, when, from what to what. It cannot be switched off: every change the
 * API or the CLI makes goes through `AuditTrail.record` (or, for admin accounts and tokens, a storage
 * write that carries its audit entry in the same transaction).
 *
 * Order for changes whose storage port cannot take the audit entry in its own transaction:
 * 1. a `pending` entry is written (who, what, target, before, trace id); if that fails, nothing changes;
 * 2. the change runs;
 * 3. the entry is completed as `succeeded` with the after state, or `failed` with the error.
 * If step 3 fails after a successful change, the caller gets `storage_unavailable` (never a success) and
 * the entry stays `pending`, still naming the change that was attempted.
 */
import type { Clock } from '../../shared/clock.js';
import { WinrollError } from '../../shared/errors.js';
import type { AuditActor, AuditEntry, AuditStore, NewAuditEntry } from './ports.js';

/** Who is acting and the request it belongs to. */
export interface AuditContext {
  actor: AuditActor;
  /** The API request's trace id; null for the CLI. */
  traceId: string | null;
}

export const CLI_CONTEXT: AuditContext = { actor: { kind: 'cli' }, traceId: null };

const SECRET_KEY = /^(password|passwordhash|token|tokenhash|secret|clientsecret|csrftoken|sessionid|idhash|certder|privatekey|key)$/i;
const MAX_DEPTH = 8;

/** A JSON-safe copy with secrets replaced by "[redacted]" (by key name) and dates as ISO text. */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return typeof value === 'function' ? null : value;
  if (value instanceof Uint8Array) return '[binary]';
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (v === undefined) continue;
    out[k] = SECRET_KEY.test(k) ? '[redacted]' : redact(v, depth + 1);
  }
  return out;
}

export interface AuditSpec {
  action: string;
  targetType: string;
  targetId: string | null;
  /** State before the change (redacted here). */
  before?: unknown;
}

function errorText(err: unknown): string {
  if (err instanceof WinrollError) return `${err.code}: ${err.message}`.slice(0, 1000);
  return 'internal: the change failed';
}

export class AuditTrail {
  readonly #store: AuditStore;
  readonly #clock: Clock;

  constructor(deps: { store: AuditStore; clock: Clock }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
  }

  /** A complete (succeeded) entry, for storage writes that record it in their own transaction. */
  entry(ctx: AuditContext, spec: AuditSpec & { after?: unknown }): NewAuditEntry {
    return {
      at: this.#clock.now(),
      actor: ctx.actor,
      action: spec.action,
      targetType: spec.targetType,
      targetId: spec.targetId,
      before: redact(spec.before),
      after: redact(spec.after),
      outcome: 'succeeded',
      error: null,
      traceId: ctx.traceId,
    };
  }

  /** Records an event that changes nothing by itself (a sign-in), as one succeeded entry. */
  note(ctx: AuditContext, spec: AuditSpec & { after?: unknown }): Promise<AuditEntry> {
    return this.#store.appendAudit(this.entry(ctx, spec));
  }

  /**
   * Runs `change` between a pending entry and its completion (see the file comment). `after` turns the
   * result into the state recorded as "after".
   */
  async record<T>(ctx: AuditContext, spec: AuditSpec, change: () => Promise<T>, after: (result: T) => unknown): Promise<T> {
    const pending = await this.#store.appendAudit({ ...this.entry(ctx, spec), after: null, outcome: 'pending' });
    let result: T;
    try {
      result = await change();
    } catch (err) {
      await this.#store.completeAudit(pending.id, { outcome: 'failed', after: null, error: errorText(err) }).catch(() => {});
      throw err;
    }
    try {
      await this.#store.completeAudit(pending.id, { outcome: 'succeeded', after: redact(after(result)), error: null });
    } catch (err) {
      throw new WinrollError(
        'storage_unavailable',
        `the change was applied but its audit record ${pending.id} could not be completed; check the storage and the audit log`,
        { cause: err },
      );
    }
    return result;
  }

  list(query: Parameters<AuditStore['listAudit']>[0]): Promise<AuditEntry[]> {
    return this.#store.listAudit(query);
  }
}
