/**
 * Compliance per device (issue 5 item 8): evaluates the admin's rules against what each device reported
 * (core/compliance/evaluate.ts), stores the state and its history, and tells the directory (Entra ID,
 * through the DirectoryComplianceWriter port) when the state changes and write-back is enabled for the
 * tenant.
 *
 * When it runs: after a session brought inventory (SessionEngine's onInventory), when the rules change
 * (every device), on a timer (grace periods and "no check-in for N days" change with time alone), and when
 * a device is shown. Write-back is an outbox: an evaluation records what the directory should say; the
 * server's writer loop (processWriteBack) sends it, retries failures with backoff, and records the last
 * result per device, so a CLI that changes rules needs no Graph access itself.
 */
import type { Clock } from '../../shared/clock.js';
import { InvalidInputError, NotFoundError } from '../../shared/errors.js';
import { type Logger, silentLogger } from '../../shared/logger.js';
import { type AuditContext, AuditTrail } from '../admin/audit.js';
import type { ManagedDevice } from '../management/ports.js';
import type { DeviceRecord, Storage } from '../ports.js';
import {
  type ComplianceEvaluation,
  type ComplianceRules,
  type ComplianceState,
  DEFAULT_COMPLIANCE_RULES,
  type RuleResult,
  directoryCompliance,
  evaluateCompliance,
  validateRules,
} from './evaluate.js';
import type { ComplianceHistoryEntry, DeviceCompliance, DirectoryComplianceWriter, WriteBackState, WriteBackTenant } from './ports.js';

/** Failed writes are tried again after 1, 2, 4 … minutes, at most every 6 hours. */
const RETRY_BASE_MS = 60_000;
const RETRY_MAX_MS = 6 * 3600_000;
const WRITE_BATCH = 50;
const HISTORY_SHOWN = 20;

/** A device's compliance as admins and the compliance page see it. */
export interface DeviceComplianceView {
  deviceId: string;
  deviceName: string | null;
  upn: string;
  model: string | null;
  osVersion: string | null;
  lastCheckInAt: Date | null;
  state: ComplianceState;
  summary: string;
  evaluatedAt: Date;
  since: Date;
  graceEndsAt: Date | null;
  rules: RuleResult[];
  history: ComplianceHistoryEntry[];
  writeBack: WriteBackState;
}

export interface ComplianceServiceDeps {
  storage: Storage;
  clock: Clock;
  logger?: Logger;
  /** The directory writer (src/graph); without it write-back waits in the outbox. */
  writer?: DirectoryComplianceWriter | undefined;
}

export class ComplianceService {
  readonly #d: ComplianceServiceDeps;
  readonly #audit: AuditTrail;
  readonly #log: Logger;
  #writing: Promise<number> | undefined;
  #writeAgain = false;

  constructor(deps: ComplianceServiceDeps) {
    this.#d = deps;
    this.#audit = new AuditTrail({ store: deps.storage, clock: deps.clock });
    this.#log = deps.logger ?? silentLogger;
  }

  async rules(): Promise<ComplianceRules> {
    // Rules saved before a rule existed lack its key: it takes its default.
    return { ...DEFAULT_COMPLIANCE_RULES, ...((await this.#d.storage.getComplianceRules()) ?? {}) };
  }

  /** Changes some rules (the rest stay), audited, then re-evaluates every enrolled device. */
  async setRules(
    ctx: AuditContext,
    change: Partial<ComplianceRules>,
  ): Promise<{ rules: ComplianceRules; evaluated: number; changed: number }> {
    const before = await this.rules();
    const merged = { ...before, ...definedOnly(change) };
    const checked = validateRules(merged);
    if (!checked.ok) throw new InvalidInputError(checked.problem);
    const rules = await this.#audit.record(
      ctx,
      { action: 'compliance.set_rules', targetType: 'compliance_rules', targetId: 'tenant', before },
      async () => {
        await this.#d.storage.saveComplianceRules(checked.rules, this.#d.clock.now());
        return checked.rules;
      },
      (r) => r,
    );
    const { evaluated, changed } = await this.evaluateAll();
    return { rules, evaluated, changed };
  }

  /** Re-evaluates every enrolled device (rules changed, or time passed). */
  async evaluateAll(): Promise<{ evaluated: number; changed: number }> {
    const rules = await this.rules();
    let evaluated = 0;
    let changed = 0;
    for (const d of await this.#d.storage.listDevices()) {
      if (d.status !== 'enrolled') continue;
      const managed = await this.#d.storage.getManagedDevice(d.deviceId);
      if (!managed) continue;
      const r = await this.#evaluate(managed, rules);
      evaluated++;
      if (r.changed) changed++;
    }
    if (changed > 0) this.kickWriteBack();
    return { evaluated, changed };
  }

  /**
   * After a session stored inventory: evaluates that device. Never throws (a compliance problem must not
   * break the device's session); failures are logged.
   */
  async onInventory(deviceId: string): Promise<void> {
    try {
      const managed = await this.#d.storage.getManagedDevice(deviceId);
      if (!managed) return;
      if (managed.device.status !== 'enrolled') return;
      const r = await this.#evaluate(managed, await this.rules());
      if (r.changed) this.kickWriteBack();
    } catch (err) {
      this.#log.warn({ deviceId, err: err instanceof Error ? err.message : String(err) }, 'compliance evaluation failed');
    }
  }

  /** One device, evaluated now, with its history and write-back state. */
  async show(deviceId: string): Promise<DeviceComplianceView> {
    const managed = await this.#d.storage.getManagedDevice(deviceId.trim().toUpperCase());
    if (!managed) throw new NotFoundError(`no enrolled device ${deviceId}`);
    return this.#view(managed);
  }

  /** The devices a person uses (enrolled by them or theirs as primary user), for the compliance page. */
  async devicesOf(userId: string): Promise<DeviceComplianceView[]> {
    const mine = (await this.#d.storage.listDevices()).filter(
      (d) => d.status === 'enrolled' && (d.userId === userId || primaryUserOf(d) === userId),
    );
    const out: DeviceComplianceView[] = [];
    for (const d of mine) {
      const managed = await this.#d.storage.getManagedDevice(d.deviceId);
      if (managed) out.push(await this.#view(managed));
    }
    return out;
  }

  async #view(managed: ManagedDevice): Promise<DeviceComplianceView> {
    if (managed.device.status === 'enrolled') await this.#evaluate(managed, await this.rules());
    const [stored, history] = await Promise.all([
      this.#d.storage.getDeviceCompliance(managed.device.id),
      this.#d.storage.listComplianceHistory(managed.device.id, HISTORY_SHOWN),
    ]);
    if (!stored) throw new NotFoundError(`device ${managed.device.deviceId} has not been evaluated (it is not enrolled)`);
    const inv = managed.inventory;
    return {
      deviceId: managed.device.deviceId,
      deviceName: inv?.deviceName ?? managed.device.deviceName,
      upn: managed.device.upn,
      model: inv?.model ?? null,
      osVersion: inv?.osVersion ?? managed.device.osVersion,
      lastCheckInAt: managed.lastCheckInAt,
      state: stored.state,
      summary: stored.summary,
      evaluatedAt: stored.evaluatedAt,
      since: stored.since,
      graceEndsAt: stored.graceEndsAt,
      rules: stored.rules,
      history,
      writeBack: stored.writeBack,
    };
  }

  async #evaluate(managed: ManagedDevice, rules: ComplianceRules): Promise<{ evaluation: ComplianceEvaluation; changed: boolean }> {
    const storage = this.#d.storage;
    const now = this.#d.clock.now();
    const inv = managed.inventory;
    const previous = await storage.getDeviceCompliance(managed.device.id);
    // DevInfo from package 1 alone is not a report: the OS version only comes from our Gets.
    const collectedAt = inv && inv.osVersion !== undefined ? new Date(inv.collectedAt) : null;
    const evaluation = evaluateCompliance({
      rules,
      reported: {
        osVersion: inv?.osVersion,
        encryptionCompliance: inv?.encryptionCompliance,
        firewallStatus: inv?.firewallStatus,
        antivirusStatus: inv?.antivirusStatus,
        antivirusSignatureStatus: inv?.antivirusSignatureStatus,
        antispywareStatus: inv?.antispywareStatus,
        realTimeProtection: inv?.realTimeProtection,
        collectedAt: collectedAt && Number.isFinite(collectedAt.getTime()) ? collectedAt : null,
      },
      lastCheckInAt: managed.lastCheckInAt,
      failingSince: previous?.failingSince ?? null,
      now,
    });
    const entraDeviceId = normalizeGuid(inv?.entraDeviceId) ?? normalizeGuid(entraIdOf(managed.device));
    const saved = await storage.saveDeviceCompliance({
      devicePk: managed.device.id,
      state: evaluation.state,
      rules: evaluation.rules,
      summary: evaluation.summary,
      failingSince: evaluation.failingSince,
      graceEndsAt: evaluation.graceEndsAt,
      entraDeviceId,
      desired: directoryCompliance(evaluation.state),
      now,
    });
    if (saved.changed) {
      this.#log.info(
        { deviceId: managed.device.deviceId, from: saved.previous, to: evaluation.state, summary: evaluation.summary },
        'compliance state changed',
      );
    }
    return { evaluation, changed: saved.changed };
  }

  // -- directory write-back -----------------------------------------------------------------------------

  listWriteBackTenants(): Promise<WriteBackTenant[]> {
    return this.#d.storage.listWriteBackTenants();
  }

  /** Turns the directory write-back on or off for a connected tenant (audited). */
  async setWriteBack(ctx: AuditContext, tenantId: string, enabled: boolean): Promise<{ tenantId: string; enabled: boolean }> {
    const id = tenantId.trim().toLowerCase();
    if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(id))
      throw new InvalidInputError(`"${tenantId.slice(0, 64)}" is not a tenant id (a GUID)`);
    if (enabled && !(await this.#d.storage.getEntraTenant(id)))
      throw new NotFoundError(`tenant ${id} is not connected; connect it first with: winroll entra connect --tenant-id ${id} ...`);
    const before = (await this.listWriteBackTenants()).some((t) => t.tenantId === id);
    await this.#audit.record(
      ctx,
      {
        action: enabled ? 'compliance.write_back.enable' : 'compliance.write_back.disable',
        targetType: 'entra_tenant',
        targetId: id,
        before: { enabled: before },
      },
      () => this.#d.storage.setWriteBackTenant(id, enabled, this.#d.clock.now()),
      () => ({ enabled }),
    );
    if (enabled) this.kickWriteBack();
    return { tenantId: id, enabled };
  }

  /** Starts a write-back pass in the background (the server's writer loop); a no-op without a writer. */
  kickWriteBack(): void {
    if (!this.#d.writer) return;
    void this.processWriteBack().catch((err) =>
      this.#log.warn({ err: err instanceof Error ? err.message : String(err) }, 'compliance write-back pass failed'),
    );
  }

  /**
   * Sends what is due to the directory; returns how many devices were attempted. Passes never overlap: a
   * call during a pass makes the pass run once more.
   */
  async processWriteBack(): Promise<number> {
    if (this.#writing) {
      this.#writeAgain = true;
      return this.#writing;
    }
    this.#writing = (async () => {
      let total = 0;
      do {
        this.#writeAgain = false;
        total += await this.#writePass();
      } while (this.#writeAgain);
      return total;
    })();
    try {
      return await this.#writing;
    } finally {
      this.#writing = undefined;
    }
  }

  async #writePass(): Promise<number> {
    const writer = this.#d.writer;
    if (!writer) return 0;
    const storage = this.#d.storage;
    const tenants = (await storage.listWriteBackTenants()).map((t) => t.tenantId);
    if (tenants.length === 0) return 0;
    let attempted = 0;
    for (;;) {
      const due = await storage.listWriteBackDue(this.#d.clock.now(), WRITE_BATCH);
      if (due.length === 0) return attempted;
      for (const row of due) await this.#writeOne(writer, row, tenants);
      attempted += due.length;
      if (due.length < WRITE_BATCH) return attempted;
    }
  }

  async #writeOne(writer: DirectoryComplianceWriter, row: DeviceCompliance, tenants: string[]): Promise<void> {
    const wb = row.writeBack;
    const value = wb.desired;
    const entraDeviceId = wb.entraDeviceId;
    if (value === null || entraDeviceId === null) return;
    // The tenant the device was found in before, else every tenant with write-back on (a device id is
    // unique, so the others answer 404).
    const candidates = wb.tenantId && tenants.includes(wb.tenantId) ? [wb.tenantId] : tenants;
    const misses: string[] = [];
    for (const tenantId of candidates) {
      const r = await writer.writeCompliance({ tenantId, entraDeviceId, isCompliant: value, isManaged: true });
      const now = this.#d.clock.now();
      if (r.ok) {
        await this.#d.storage.recordWriteBack(row.devicePk, {
          ok: true,
          value,
          tenantId,
          detail: `written: isCompliant=${value} in tenant ${tenantId} (HTTP ${r.status})`,
          nextAttemptAt: null,
          now,
        });
        this.#log.info({ devicePk: row.devicePk, tenantId, isCompliant: value }, 'compliance written to the directory');
        return;
      }
      if (r.notFound) {
        misses.push(tenantId);
        continue;
      }
      await this.#d.storage.recordWriteBack(row.devicePk, {
        ok: false,
        value,
        tenantId: null,
        detail: `failed: ${r.detail}`,
        nextAttemptAt: this.#retryAt(wb.attempts, now),
        now,
      });
      this.#log.warn({ devicePk: row.devicePk, tenantId, status: r.status, detail: r.detail }, 'compliance write-back failed; will retry');
      return;
    }
    const now = this.#d.clock.now();
    await this.#d.storage.recordWriteBack(row.devicePk, {
      ok: false,
      value,
      tenantId: null,
      detail: `failed: the directory does not know device ${entraDeviceId} (tenant ${misses.join(', ')} answered 404)`,
      nextAttemptAt: this.#retryAt(wb.attempts, now),
      now,
    });
  }

  #retryAt(attempts: number, now: Date): Date {
    const wait = Math.min(RETRY_BASE_MS * 2 ** Math.min(attempts, 20), RETRY_MAX_MS);
    return new Date(now.getTime() + wait);
  }
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function normalizeGuid(v: string | null | undefined): string | null {
  if (!v) return null;
  const t = v
    .trim()
    .replace(/^\{|\}$/g, '')
    .toLowerCase();
  return /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(t) ? t : null;
}

/** Fields other parts of the tree may add to the device record (primary user, Entra device id from the join). */
function primaryUserOf(d: DeviceRecord): string | null {
  return (d as DeviceRecord & { primaryUserId?: string | null }).primaryUserId ?? null;
}

function entraIdOf(d: DeviceRecord): string | null {
  return (d as DeviceRecord & { entraDeviceId?: string | null }).entraDeviceId ?? null;
}
