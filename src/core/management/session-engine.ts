/**
 * The OMA-DM session engine (protocol.md 5-6, 8.1): authenticates the device, answers every client
 * command with a Status in order, records what the device did with our commands, reconciles desired
 * state on package 1, and sends queued commands in sequence order, within the device's message size.
 * The session ends when a reply carries no commands. Every answer is SyncML over HTTP 200; refusals
 * are a SyncHdr Status 401/403 with no commands (protocol.md 9.3).
 */
import { randomUUID } from 'node:crypto';
import { ALERT, ALERT_TYPE, STATUS, isSuccessStatus } from '../../protocol/syncml/codes.js';
import { encodeSyncMl } from '../../protocol/syncml/encode.js';
import { SyncMlError } from '../../protocol/syncml/errors.js';
import { decodeSyncMl } from '../../protocol/syncml/message.js';
import { fitToSize, messageBudget, replyHeader, statusesFor } from '../../protocol/syncml/reply.js';
import type { ItemCommand, ServerCommand, SyncMlMessage } from '../../protocol/syncml/types.js';
import type { Clock } from '../../shared/clock.js';
import { installAlerts, recordAppReports } from '../apps/app-results.js';
import { reconcileDeviceApps } from '../apps/lifecycle.js';
import type { Logger } from '../../shared/logger.js';
import type { EnrollmentRecord, ManagementMode, Storage } from '../ports.js';
import type { DeviceAuthenticator } from './device-auth.js';
import { MAM_INVENTORY_NODES, MAM_INVENTORY_REFRESH_MS, isAllowedForMam, mamApplicableProfiles } from './mam-csp.js';
import { desiredFingerprint, desiredState, planChanges, settingKey } from './desired-state.js';
import { INVENTORY_NODES, inventoryFromItems, inventoryIsStale } from './inventory.js';
import type { DeviceInventory, QueuedCommand } from './ports.js';
import { CHANNEL_REFRESH_MS, pushCommands, pushNodes } from './push.js';
import { type SessionUser, type UserTokenVerifier, identifySessionUser } from './session-user.js';

export const SYNCML_CONTENT_TYPE = 'application/vnd.syncml.dm+xml';

/** A session not heard from for this long is forgotten; Windows finishes a session within seconds. */
const SESSION_TTL_MS = 10 * 60_000;
/** Commands fetched per message before size fitting; the rest wait for the next message. */
const COMMANDS_PER_MESSAGE = 100;

interface SessionState {
  /** Unique per session instance: commands sent under another key count as lost and are resent. */
  key: string;
  /** Who is signed in: their ./User/ commands may go out in this session (session-user.ts). */
  user: SessionUser | null;
  lastSeen: number;
}

export interface ManagementRequest {
  body: Buffer;
  clientCertificateDer: Buffer | undefined;
  /** Why no certificate was seen (for the log). */
  identityNote?: string | undefined;
  /** The `Authorization: Bearer` value: Entra ID sessions carry the signed-in user's token (protocol.md §3.3). */
  bearerToken?: string | undefined;
  /**
   * The message came to the app-protection (MAM) sync endpoint: there is no certificate, so the device is
   * identified by `bearerToken` and the DeviceID it names (DeviceAuthenticator.authenticateBearer).
   */
  appProtection?: boolean | undefined;
}

export interface ManagementResponse {
  status: number;
  contentType: string;
  body: string;
  /** Facts for the transport's log line. */
  log: Record<string, unknown>;
}

export interface SessionEngineDeps {
  storage: Storage;
  authenticator: DeviceAuthenticator;
  clock: Clock;
  logger: Logger;
  managementUrl: () => string;
  providerId: string;
  /** Our WNS app's package family name; when set, devices are registered for push wake-ups. */
  pushPfn?: string | undefined;
  /** Verifies the signed-in user's Entra token on directory-joined (multi-user) devices; without it they get device policy only. */
  userTokens?: UserTokenVerifier | undefined;
  /** Called (by DeviceID) after a message brought inventory results: compliance re-evaluates. Must not throw. */
  onInventory?: ((deviceId: string) => Promise<void>) | undefined;
}

export class SessionEngine {
  readonly #d: SessionEngineDeps;
  readonly #sessions = new Map<string, SessionState>();
  /**
   * Per device, the user and desired-state fingerprint of the last reconciled session; after a restart each
   * reconciles once. One entry per device, not per (device, user): device-scope settings are shared by
   * every session, so a plan made in one user's session (e.g. after the primary user changed) leaves the
   * others' cached state stale; a session of another user plans again.
   */
  readonly #reconciled = new Map<string, string>();

  constructor(deps: SessionEngineDeps) {
    this.#d = deps;
  }

  async handle(req: ManagementRequest): Promise<ManagementResponse> {
    let msg: SyncMlMessage;
    try {
      msg = decodeSyncMl(req.body);
    } catch (err) {
      if (!(err instanceof SyncMlError)) throw err;
      // Nothing to echo: answer with a SyncML message whose SyncHdr Status says the request was bad.
      return this.#reply(
        {
          sessionId: '0',
          msgId: 1,
          target: '',
          source: this.#d.managementUrl(),
          statuses: [{ cmdId: '1', msgRef: 1, cmdRef: '0', cmd: 'SyncHdr', data: STATUS.badRequest }],
          commands: [],
          final: true,
        },
        { outcome: 'malformed', error: err.message },
      );
    }

    const auth = req.appProtection
      ? await this.#d.authenticator.authenticateBearer(req.bearerToken, msg.header.source)
      : await this.#d.authenticator.authenticate(req.clientCertificateDer, msg.header.source);
    const header = replyHeader(msg, this.#d.managementUrl());
    if (!auth.ok) {
      return this.#reply(
        { ...header, statuses: statusesFor(msg, () => STATUS.ok, { hdrStatus: auth.status }), commands: [], final: true },
        {
          outcome: 'refused',
          status: auth.status,
          reason: req.clientCertificateDer ? auth.reason : (req.identityNote ?? auth.reason),
          deviceId: msg.header.source.slice(0, 64),
        },
      );
    }

    const { device, enrollment } = auth;
    const storage = this.#d.storage;
    const now = this.#d.clock.now();
    const session = await this.#session(enrollment, msg, req.bearerToken);
    let unenrolled = false;
    const statusUpdates: Array<{ id: string; status: number }> = [];
    const results: Array<{ id: string; items: Array<{ locUri: string; format?: string; data: string }> }> = [];
    const devInfo: Array<{ locUri: string; data: string | undefined }> = [];

    const statuses = statusesFor(msg, (cmd) => {
      switch (cmd.kind) {
        case 'Alert':
          if (cmd.data === ALERT.generic && cmd.items.some((i) => i.meta?.type === ALERT_TYPE.unenrollmentUserRequest)) unenrolled = true;
          return STATUS.ok;
        case 'Replace':
          for (const i of cmd.items) devInfo.push({ locUri: i.source ?? i.target ?? '', data: i.data });
          return STATUS.ok;
        default:
          // A client Add/Get/Delete/Exec or anything unknown: not something a server takes.
          return STATUS.optionalFeatureNotSupported;
      }
    });
    for (const c of msg.commands) {
      if (c.kind === 'Status' && c.cmdRef !== '0') statusUpdates.push({ id: c.cmdRef, status: c.data });
      if (c.kind === 'Results') {
        results.push({
          id: c.cmdRef,
          items: c.items.map((i) => ({
            locUri: i.source ?? i.target ?? '',
            ...(i.meta?.format ? { format: i.meta.format } : {}),
            data: i.data ?? '',
          })),
        });
      }
    }

    await storage.recordCheckIn(device.id, now);
    const push = pushNodes(this.#d.providerId);
    let inventoryArrived = false;
    for (const r of results) {
      await storage.recordResults(device.id, r.id, r.items, now);
      const inv = inventoryFromItems(r.items);
      if (Object.keys(inv).length > 0) {
        await storage.updateInventory(device.id, inv, now);
        inventoryArrived = true;
      }
      for (const i of r.items) {
        const uri = i.locUri.toLowerCase();
        if (uri === push.channelUri.toLowerCase()) await storage.setPushChannel(device.id, { channelUri: i.data.trim() || null }, now);
        if (uri === push.status.toLowerCase() && /^\d+$/.test(i.data.trim()))
          await storage.setPushChannel(device.id, { status: Number(i.data.trim()) }, now);
      }
    }
    if (inventoryArrived) await this.#d.onInventory?.(device.deviceId);
    const outcomes = [];
    for (const s of statusUpdates) {
      const cmd = await storage.recordStatus(device.id, s.id, s.status, now);
      if (cmd) outcomes.push(cmd);
    }
    let inventory = auth.inventory;
    if (devInfo.length > 0) {
      // Package 1 repeats DevInfo every session; write only what changed.
      const reported = inventoryFromItems(devInfo);
      const changed = Object.fromEntries(Object.entries(reported).filter(([k, v]) => inventory?.[k as keyof typeof reported] !== v));
      if (Object.keys(changed).length > 0) {
        await storage.updateInventory(device.id, changed, now);
        inventory = { ...(inventory ?? { collectedAt: now.toISOString() }), ...changed };
      }
    }
    const log: Record<string, unknown> = {
      deviceId: device.deviceId,
      sessionId: msg.header.sessionId,
      msgId: msg.header.msgId,
      user: session.user?.upn,
      userVia: session.user?.via,
    };

    for (const cmd of outcomes) {
      if (await this.#afterStatus(device.id, cmd, now)) unenrolled = true;
    }
    // Background app installs: accepted, reported by alert, or answered a Status check (queries only when present).
    await recordAppReports(storage, device.id, { alerts: installAlerts(msg.commands), outcomes }, now);

    if (unenrolled) {
      // The device left management (user pressed Disconnect, or it executed our Unenroll). Nothing more to send.
      await storage.markUnenrolled(device.id, now);
      this.#forget(enrollment.id, msg.header.sessionId);
      return this.#reply({ ...header, statuses, commands: [], final: true }, { ...log, outcome: 'unenrolled' });
    }

    if (msg.header.msgId === 1) {
      // A per-user (Full) enrollment is single-user: its user's settings are planned (and wait for LoginStatus user)
      // whoever is signed in. A device enrollment plans for the signed-in user only, so each user's settings are
      // reconciled in that user's sessions and never deleted by another user's.
      const planFor = enrollment.enrollmentType === 'Full' ? device.userId : (session.user?.userId ?? null);
      if (session.user) await storage.recordDeviceUser(device.id, session.user.userId, now);
      await this.#startOfSession(device.id, inventory, planFor, now, device.managementMode);
      if (device.managementMode === 'mdm') await this.#requiredApps(device.id, device.primaryUserId ?? device.userId, now);
    }

    const next = await storage.nextCommands(device.id, {
      sessionKey: session.key,
      userId: session.user?.userId ?? null,
      limit: COMMANDS_PER_MESSAGE,
    });
    const sendable = await this.#dropSuperseded(
      device.id,
      device.managementMode === 'mam' ? await this.#mamOnly(device.id, next, now) : next,
      now,
    );
    const commands = sendable.map(toServerCommand);
    const frame = { ...header, statuses, final: true };
    const [batch = []] = commands.length > 0 ? fitToSize(commands, messageBudget(msg), { frame }) : [];
    if (batch.length > 0)
      await storage.markSent(
        batch.map((c) => c.cmdId),
        session.key,
        msg.header.msgId,
        now,
      );
    if (batch.length === 0) this.#forget(enrollment.id, msg.header.sessionId);
    return this.#reply(
      { ...frame, commands: batch },
      { ...log, outcome: batch.length > 0 ? 'commands' : 'done', sent: batch.length, acknowledged: outcomes.length },
    );
  }

  /** What an acknowledged or failed command changes; true when the device has unenrolled. */
  async #afterStatus(devicePk: string, cmd: QueuedCommand, now: Date): Promise<boolean> {
    const storage = this.#d.storage;
    const ok = isSuccessStatus(cmd.status ?? 0);
    if (cmd.origin.kind === 'profile') {
      if (ok && (cmd.verb === 'Add' || cmd.verb === 'Replace')) {
        await storage.recordApplied({
          devicePk,
          userId: cmd.userId,
          locUri: cmd.item.locUri,
          format: cmd.item.format ?? 'chr',
          value: cmd.item.data ?? '',
          profileId: cmd.origin.profileId,
          appliedAt: now,
        });
      } else if (ok && cmd.verb === 'Delete') {
        await storage.removeApplied(devicePk, cmd.userId, cmd.item.locUri);
      } else if (cmd.status === STATUS.alreadyExists && cmd.verb === 'Add') {
        // The node exists already (another tool, or an earlier enrollment): set it instead.
        await storage.enqueue(devicePk, [{ verb: 'Replace', item: cmd.item, userId: cmd.userId, origin: cmd.origin }], now);
      } else if (cmd.status === STATUS.notFound && cmd.verb === 'Delete') {
        await storage.removeApplied(devicePk, cmd.userId, cmd.item.locUri);
      }
      return false;
    }
    if (cmd.origin.kind === 'system' && cmd.origin.purpose === 'push' && ok && cmd.verb === 'Replace') {
      await storage.setPushChannel(devicePk, { pfn: cmd.item.data ?? null }, now);
      return false;
    }
    if (cmd.origin.kind === 'action' && ok && cmd.item.locUri.endsWith('/DMClient/Unenroll')) {
      // Retire or delete executed: the device is leaving. A delete also drops the record.
      await storage.markUnenrolled(devicePk, now);
      if (cmd.origin.actionId.startsWith('delete-')) await storage.deleteDevice(devicePk);
      return true;
    }
    return false;
  }

  /**
   * Apps of the device's primary user (the enrolling account on a shared device), through their groups:
   * required installs (failed ones retried within a bound), and removals of what is no longer required or
   * is assigned for uninstall (core/apps/lifecycle.ts).
   */
  async #requiredApps(devicePk: string, userId: string, now: Date): Promise<void> {
    await reconcileDeviceApps(this.#d.storage, devicePk, userId, now);
  }

  /**
   * Package 1: queue what desired state and inventory call for. Desired state is reconciled for the device
   * scope and `userId`'s settings only (null: device scope only); other users' applied settings and queued
   * commands are outside the plan, so they are neither re-sent nor deleted here.
   */
  async #startOfSession(
    devicePk: string,
    inventory: DeviceInventory | null,
    userId: string | null,
    now: Date,
    mode: ManagementMode = 'mdm',
  ): Promise<void> {
    const storage = this.#d.storage;
    const assigned = await storage.profilesForDevice(devicePk, userId ? [userId] : []);
    // A MAM registration is never planned a setting its CSP blocks (the admin sees them as not applicable).
    const profiles = mode === 'mam' ? mamApplicableProfiles(assigned) : assigned;
    const fingerprint = desiredFingerprint(profiles);
    const reconciled = `${userId ?? ''}\u0000${fingerprint}`;
    if (this.#reconciled.get(devicePk) !== reconciled) {
      const desired = desiredState(profiles);
      for (const c of desired.conflicts)
        this.#d.logger.warn({ devicePk, ...c }, 'two profiles set one node differently; the first by name wins');
      const inScope = (s: { userId: string | null }) => s.userId === null || s.userId === userId;
      const [applied, queued] = await Promise.all([storage.listApplied(devicePk), storage.listCommands(devicePk, { limit: 10_000 })]);
      const plan = planChanges(desired, applied.filter(inScope), queued.filter(inScope));
      for (const c of plan.cancel) await storage.cancelPending(devicePk, c, now);
      if (plan.commands.length > 0) await storage.enqueue(devicePk, plan.commands, now);
      this.#reconciled.set(devicePk, reconciled);
    }
    if (mode === 'mam') await this.#mamInventory(devicePk, now);
    else if (inventoryIsStale(inventory, now)) {
      const queued = await storage.listCommands(devicePk, { limit: 1000 });
      if (!queued.some((c) => c.origin.kind === 'inventory' && (c.state === 'pending' || c.state === 'sent'))) {
        await storage.enqueue(
          devicePk,
          INVENTORY_NODES.map((n) => ({
            verb: 'Get' as const,
            item: { locUri: n.locUri },
            userId: null,
            origin: { kind: 'inventory' as const },
          })),
          now,
        );
      }
    }
    const pfn = this.#d.pushPfn;
    if (pfn) {
      const channel = await storage.getPushChannel(devicePk);
      const fresh =
        channel && channel.pfn === pfn && channel.channelUri && now.getTime() - channel.updatedAt.getTime() < CHANNEL_REFRESH_MS;
      if (!fresh) {
        const queued = await storage.listCommands(devicePk, { limit: 1000 });
        const inFlight = queued.some(
          (c) => c.origin.kind === 'system' && c.origin.purpose === 'push' && (c.state === 'pending' || c.state === 'sent'),
        );
        if (!inFlight) await storage.enqueue(devicePk, pushCommands(this.#d.providerId, pfn, channel?.pfn ?? null), now);
      }
    }
  }

  /**
   * MAM registrations: commands for CSPs Windows blocks there (queued by a profile fan-out or before the
   * device became MAM) are cancelled, never sent.
   */
  async #mamOnly(devicePk: string, commands: QueuedCommand[], now: Date): Promise<QueuedCommand[]> {
    const blocked = commands.filter((c) => !isAllowedForMam(c.item.locUri));
    if (blocked.length === 0) return commands;
    const pending = blocked.filter((c) => c.state === 'pending').map((c) => c.id);
    if (pending.length > 0) await this.#d.storage.cancelCommands(devicePk, pending, now);
    return commands.filter((c) => isAllowedForMam(c.item.locUri));
  }

  /** MAM inventory: DevInfo and DeviceStatus only, at most daily (Windows syncs a MAM registration about once a day). */
  async #mamInventory(devicePk: string, now: Date): Promise<void> {
    const queued = await this.#d.storage.listCommands(devicePk, { limit: 1000 });
    const recent = queued.some(
      (c) =>
        c.origin.kind === 'inventory' &&
        (c.state === 'pending' || c.state === 'sent' || now.getTime() - c.createdAt.getTime() < MAM_INVENTORY_REFRESH_MS),
    );
    if (recent) return;
    await this.#d.storage.enqueue(
      devicePk,
      MAM_INVENTORY_NODES.map((locUri) => ({
        verb: 'Get' as const,
        item: { locUri },
        userId: null,
        origin: { kind: 'inventory' as const },
      })),
      now,
    );
  }

  /** Among queued profile commands for one node only the newest is worth sending; older ones are cancelled. */
  async #dropSuperseded(devicePk: string, commands: QueuedCommand[], now: Date): Promise<QueuedCommand[]> {
    const newest = new Map<string, number>();
    for (const c of commands) {
      if (c.origin.kind !== 'profile') continue;
      const key = settingKey(c.userId, c.item.locUri);
      newest.set(key, Math.max(newest.get(key) ?? 0, c.seq));
    }
    const keep: QueuedCommand[] = [];
    for (const c of commands) {
      if (c.origin.kind === 'profile' && newest.get(settingKey(c.userId, c.item.locUri)) !== c.seq) {
        if (c.state === 'pending') await this.#d.storage.cancelCommands(devicePk, [c.id], now);
        continue;
      }
      keep.push(c);
    }
    return keep;
  }

  async #session(enrollment: EnrollmentRecord, msg: SyncMlMessage, bearerToken: string | undefined): Promise<SessionState> {
    const now = this.#d.clock.now().getTime();
    const mapKey = `${enrollment.id}:${msg.header.sessionId}`;
    let s = this.#sessions.get(mapKey);
    if (!s || msg.header.msgId === 1 || now - s.lastSeen > SESSION_TTL_MS) {
      // Package 1 names the user; a session picked up mid-way (after a restart) still has the Bearer header.
      const who = await identifySessionUser({ msg, bearerToken, enrollment, verifier: this.#d.userTokens });
      for (const t of who.ignored) {
        this.#d.logger.warn(
          {
            deviceId: enrollment.deviceId,
            sessionId: msg.header.sessionId,
            via: t.via,
            reason: t.reason,
            detail: t.detail,
            tenantId: t.tenantId,
            upn: t.upn,
          },
          'user token ignored: this session gets device policy only',
        );
      }
      s = { key: `${mapKey}:${randomUUID()}`, user: who.user, lastSeen: now };
      this.#sessions.set(mapKey, s);
      if (this.#sessions.size > 10_000) this.#prune(now);
    }
    s.lastSeen = now;
    return s;
  }

  #forget(enrollmentId: string, sessionId: string): void {
    this.#sessions.delete(`${enrollmentId}:${sessionId}`);
  }

  #prune(now: number): void {
    for (const [k, s] of this.#sessions) if (now - s.lastSeen > SESSION_TTL_MS) this.#sessions.delete(k);
  }

  #reply(message: Parameters<typeof encodeSyncMl>[0], log: Record<string, unknown>): ManagementResponse {
    return { status: 200, contentType: SYNCML_CONTENT_TYPE, body: encodeSyncMl(message), log };
  }
}

function toServerCommand(
  c: QueuedCommand,
): ItemCommand<{ target: string; meta?: { format?: string; type?: string }; data?: string }> & ServerCommand {
  const meta =
    c.item.format || c.item.type
      ? { ...(c.item.format ? { format: c.item.format } : {}), ...(c.item.type ? { type: c.item.type } : {}) }
      : undefined;
  const item = {
    target: c.item.locUri,
    ...(meta ? { meta } : {}),
    ...(c.verb !== 'Get' && c.verb !== 'Delete' && c.item.data !== undefined ? { data: c.item.data } : {}),
  };
  return { kind: c.verb, cmdId: c.id, items: [item] } as never;
}
