/**
 * Desired state (issue rule: "desired state, not fire-and-forget"): what the assigned profiles want on a
 * device, compared with what the device acknowledged and what is already on its way, gives the few
 * commands that close the gap. Only changes are sent; a setting no profile wants any more is deleted.
 * Each setting is its own command: never one Atomic for a whole profile (one failure would roll back
 * all), never ./User and ./Device mixed in one Atomic.
 */
import type { AppliedSetting, NewCommand, Profile, ProfileScope, QueuedCommand } from './ports.js';

export interface DesiredSetting {
  userId: string | null;
  locUri: string;
  format: string;
  value: string;
  profileId: string;
  path: string;
}

export function locUriFor(scope: ProfileScope, path: string): string {
  return `${scope === 'device' ? './Device' : './User'}/${path.replace(/^\/+/, '')}`;
}

export const settingKey = (userId: string | null, locUri: string) => `${userId ?? ''}\u0000${locUri.toLowerCase()}`;

export interface DesiredState {
  settings: Map<string, DesiredSetting>;
  /** Two profiles set the same node differently; the first by name wins and the admin is told. */
  conflicts: Array<{ locUri: string; userId: string | null; kept: string; ignored: string }>;
}

export function desiredState(profiles: Array<{ profile: Profile; forUserId: string | null }>): DesiredState {
  const settings = new Map<string, DesiredSetting>();
  const conflicts: DesiredState['conflicts'] = [];
  const ordered = [...profiles].sort((a, b) => a.profile.name.localeCompare(b.profile.name));
  for (const { profile, forUserId } of ordered) {
    const userId = profile.scope === 'user' ? forUserId : null;
    if (profile.scope === 'user' && !userId) continue;
    for (const s of profile.settings) {
      const locUri = locUriFor(profile.scope, s.path);
      const key = settingKey(userId, locUri);
      const existing = settings.get(key);
      if (existing) {
        if (existing.value !== s.value || existing.format !== s.format) {
          conflicts.push({ locUri, userId, kept: existing.profileId, ignored: profile.id });
        }
        continue;
      }
      settings.set(key, { userId, locUri, format: s.format, value: s.value, profileId: profile.id, path: s.path });
    }
  }
  return { settings, conflicts };
}

/** A fingerprint of the assignments that shape desired state; reconcile only when it moves. */
export function desiredFingerprint(profiles: Array<{ profile: Profile; forUserId: string | null }>): string {
  return profiles
    .map((p) => `${p.profile.id}@${p.profile.version}/${p.forUserId ?? ''}`)
    .sort()
    .join(',');
}

export interface Plan {
  commands: NewCommand[];
  /** Keys whose queued-but-unsent commands are now wrong and must be cancelled first. */
  cancel: Array<{ locUri: string; userId: string | null }>;
}

export function planChanges(desired: DesiredState, applied: AppliedSetting[], inFlight: QueuedCommand[]): Plan {
  const latest = new Map<string, QueuedCommand>();
  for (const c of inFlight) {
    if (c.origin.kind !== 'profile' || (c.state !== 'pending' && c.state !== 'sent')) continue;
    const key = settingKey(c.userId, c.item.locUri);
    const prev = latest.get(key);
    if (!prev || prev.seq < c.seq) latest.set(key, c);
  }
  const appliedByKey = new Map(applied.map((a) => [settingKey(a.userId, a.locUri), a]));
  const commands: NewCommand[] = [];
  const cancel: Plan['cancel'] = [];

  for (const [key, d] of desired.settings) {
    const a = appliedByKey.get(key);
    const flying = latest.get(key);
    const wanted = { locUri: d.locUri, format: d.format, type: 'text/plain', data: d.value };
    if (flying && flying.verb !== 'Delete' && flying.item.data === d.value && flying.item.format === d.format) continue;
    if (!flying && a && a.value === d.value && a.format === d.format) continue;
    if (flying) cancel.push({ locUri: d.locUri, userId: d.userId });
    commands.push({
      verb: a ? 'Replace' : 'Add',
      item: wanted,
      userId: d.userId,
      origin: { kind: 'profile', profileId: d.profileId, setting: d.path },
    });
  }
  for (const [key, a] of appliedByKey) {
    if (desired.settings.has(key)) continue;
    const flying = latest.get(key);
    if (flying?.verb === 'Delete') continue;
    if (flying) cancel.push({ locUri: a.locUri, userId: a.userId });
    commands.push({
      verb: 'Delete',
      item: { locUri: a.locUri },
      userId: a.userId,
      origin: { kind: 'profile', profileId: a.profileId, setting: a.locUri },
    });
  }
  // On its way but no longer wanted and never applied: stop it, and undo it if it already left.
  for (const [key, c] of latest) {
    if (desired.settings.has(key) || appliedByKey.has(key) || c.verb === 'Delete') continue;
    cancel.push({ locUri: c.item.locUri, userId: c.userId });
    if (c.state === 'sent') commands.push({ verb: 'Delete', item: { locUri: c.item.locUri }, userId: c.userId, origin: c.origin });
  }
  return { commands, cancel };
}
