/**
 * Compliance evaluation: the one pure function that turns the admin's rules, what the device last
 * reported over OMA-DM (DeviceStatus, Defender and DevDetail nodes, read with the inventory) and the
 * time into a state with one readable reason per rule. No I/O: the service stores the result.
 *
 * States: `compliant` (every rule passes), `inGrace` (a rule fails but the grace period since it first
 * failed has not run out; counts as compliant for the directory, like Intune's grace), `noncompliant`,
 * and `unknown` (nothing fails but the device has not reported something a rule needs yet).
 */

import type { ComplianceRules, ComplianceState, RuleId, RuleResult } from './ports.js';

export type { ComplianceRules, ComplianceState, RuleId, RuleResult } from './ports.js';

export const COMPLIANCE_STATES: readonly ComplianceState[] = ['compliant', 'noncompliant', 'inGrace', 'unknown'];

/** Intune's defaults: nothing required, and 30 days without a check-in makes a device noncompliant. */
export const DEFAULT_COMPLIANCE_RULES: ComplianceRules = {
  minOsVersion: null,
  maxOsVersion: null,
  requireEncryption: false,
  requireFirewall: false,
  requireAntivirus: false,
  requireAntivirusSignatures: false,
  requireAntispyware: false,
  requireRealTimeProtection: false,
  gracePeriodHours: 0,
  maxDaysWithoutCheckIn: 30,
};

export const MAX_GRACE_HOURS = 24 * 120;
export const MAX_DAYS_WITHOUT_CHECK_IN = 365;

/** What the device reported (undefined: not reported, e.g. the node does not exist on that build). */
export interface ReportedState {
  osVersion?: string | undefined;
  encryptionCompliance?: number | undefined;
  firewallStatus?: number | undefined;
  antivirusStatus?: number | undefined;
  antivirusSignatureStatus?: number | undefined;
  antispywareStatus?: number | undefined;
  realTimeProtection?: boolean | undefined;
  /** When the device last answered our inventory Gets; null: never (just enrolled). */
  collectedAt: Date | null;
}

export interface ComplianceEvaluation {
  state: ComplianceState;
  rules: RuleResult[];
  /** One line for lists and the history. */
  summary: string;
  /** Since when a rule has been failing (kept across evaluations while something keeps failing). */
  failingSince: Date | null;
  /** When an `inGrace` device becomes noncompliant unless fixed. */
  graceEndsAt: Date | null;
}

export interface EvaluationInput {
  rules: ComplianceRules;
  reported: ReportedState;
  lastCheckInAt: Date | null;
  /** From the previous evaluation: when failing started (for the grace period). */
  failingSince: Date | null;
  now: Date;
}

const SYNC_HINT = 'then sync: Settings > Accounts > Access work or school > your work account > Info > Sync';

/** Parses `10.0.22631.4317` into numbers; undefined when it is not a dotted version. */
export function parseVersion(v: string): number[] | undefined {
  const t = v.trim();
  if (!/^\d{1,9}(\.\d{1,9}){0,3}$/.test(t)) return undefined;
  return t.split('.').map(Number);
}

/** Compares `version` with `bound` on the parts `bound` gives: -1, 0 or 1. */
export function compareVersionPrefix(version: number[], bound: number[]): number {
  for (let i = 0; i < bound.length; i++) {
    const a = version[i] ?? 0;
    const b = bound[i] ?? 0;
    if (a !== b) return a < b ? -1 : 1;
  }
  return 0;
}

export function evaluateCompliance(input: EvaluationInput): ComplianceEvaluation {
  const { rules, reported, now } = input;
  const results: RuleResult[] = [];
  const collected = reported.collectedAt !== null;
  const notYet = (title: string) => `the device has not reported its ${title.toLowerCase()} yet`;
  const unreported = (what: string) =>
    collected ? `the device did not report its ${what} (the setting may not exist on this Windows build)` : notYet(what);

  const os = reported.osVersion !== undefined ? parseVersion(reported.osVersion) : undefined;
  if (rules.minOsVersion) {
    const min = parseVersion(rules.minOsVersion) ?? [];
    const r: RuleResult = {
      rule: 'minOsVersion',
      title: 'Windows version',
      status: 'unknown',
      reported: reported.osVersion ?? null,
      expected: `${rules.minOsVersion} or later`,
      reason: unreported('Windows version'),
      fix: '',
    };
    if (os) {
      const ok = compareVersionPrefix(os, min) >= 0;
      r.status = ok ? 'pass' : 'fail';
      r.reason = ok
        ? `Windows ${reported.osVersion} is ${rules.minOsVersion} or later`
        : `Windows ${reported.osVersion} is older than the minimum ${rules.minOsVersion}`;
      if (!ok)
        r.fix = `Update Windows to version ${rules.minOsVersion} or later: Settings > Windows Update > Check for updates, install everything offered and restart; ${SYNC_HINT}.`;
    }
    results.push(r);
  }
  if (rules.maxOsVersion) {
    const max = parseVersion(rules.maxOsVersion) ?? [];
    const r: RuleResult = {
      rule: 'maxOsVersion',
      title: 'Windows version (highest allowed)',
      status: 'unknown',
      reported: reported.osVersion ?? null,
      expected: `${rules.maxOsVersion} or earlier`,
      reason: unreported('Windows version'),
      fix: '',
    };
    if (os) {
      const ok = compareVersionPrefix(os, max) <= 0;
      r.status = ok ? 'pass' : 'fail';
      r.reason = ok
        ? `Windows ${reported.osVersion} is not newer than ${rules.maxOsVersion}`
        : `Windows ${reported.osVersion} is newer than the highest version allowed, ${rules.maxOsVersion}`;
      if (!ok) r.fix = `This Windows version (${reported.osVersion}) is not approved yet. Contact your IT department.`;
    }
    results.push(r);
  }
  if (rules.requireEncryption) {
    const v = reported.encryptionCompliance;
    results.push(
      statusRule({
        rule: 'encryption',
        title: 'Drive encryption (BitLocker)',
        expected: 'the Windows drive is encrypted',
        value: v,
        pass: v === 1,
        describe: (n) => (n === 1 ? 'encrypted' : n === 0 ? 'not encrypted' : `status ${n}`),
        unreported: unreported('drive encryption'),
        failReason: 'the Windows drive is not encrypted with BitLocker',
        fix: `Turn on BitLocker: Settings > Privacy & security > Device encryption (or Control Panel > BitLocker Drive Encryption) and encrypt the Windows drive; ${SYNC_HINT}.`,
      }),
    );
  }
  if (rules.requireFirewall) {
    const v = reported.firewallStatus;
    results.push(
      statusRule({
        rule: 'firewall',
        title: 'Firewall',
        expected: 'on for every network',
        value: v,
        pass: v === 0,
        describe: (n) => FIREWALL[n] ?? `status ${n}`,
        unreported: unreported('firewall status'),
        failReason: `the firewall is ${FIREWALL[v ?? -1] ?? `in status ${v}`}`,
        fix: `Turn the firewall on for every network: open Windows Security > Firewall & network protection and select "Turn on" for Domain, Private and Public networks; ${SYNC_HINT}.`,
      }),
    );
  }
  if (rules.requireAntivirus) {
    const v = reported.antivirusStatus;
    results.push(
      statusRule({
        rule: 'antivirus',
        title: 'Antivirus',
        expected: 'on and monitoring',
        value: v,
        pass: v === 0,
        describe: (n) => ANTIVIRUS[n] ?? `status ${n}`,
        unreported: unreported('antivirus status'),
        failReason: `the antivirus is ${ANTIVIRUS[v ?? -1] ?? `in status ${v}`}`,
        fix: `Turn on virus protection: open Windows Security > Virus & threat protection and select "Turn on" (or "Restart now" if Windows asks); ${SYNC_HINT}.`,
      }),
    );
  }
  if (rules.requireAntivirusSignatures) {
    const v = reported.antivirusSignatureStatus;
    results.push(
      statusRule({
        rule: 'antivirusSignatures',
        title: 'Antivirus security intelligence',
        expected: 'up to date',
        value: v,
        pass: v === 1,
        describe: (n) => (n === 1 ? 'up to date' : n === 0 ? 'out of date' : n === 2 ? 'not applicable' : `status ${n}`),
        unreported: unreported('antivirus update status'),
        failReason: 'the antivirus security intelligence (signatures) is out of date',
        fix: `Update the antivirus: open Windows Security > Virus & threat protection > Protection updates and select "Check for updates"; ${SYNC_HINT}.`,
      }),
    );
  }
  if (rules.requireAntispyware) {
    const v = reported.antispywareStatus;
    results.push(
      statusRule({
        rule: 'antispyware',
        title: 'Antispyware',
        expected: 'on and monitoring',
        value: v,
        pass: v === 0,
        describe: (n) => ANTISPYWARE[n] ?? `status ${n}`,
        unreported: unreported('antispyware status'),
        failReason: `antispyware protection is ${ANTISPYWARE[v ?? -1] ?? `in status ${v}`}`,
        fix: `Turn on spyware protection: open Windows Security > Virus & threat protection and select "Turn on"; ${SYNC_HINT}.`,
      }),
    );
  }
  if (rules.requireRealTimeProtection) {
    const v = reported.realTimeProtection;
    const r: RuleResult = {
      rule: 'realTimeProtection',
      title: 'Microsoft Defender real-time protection',
      status: v === undefined ? 'unknown' : v ? 'pass' : 'fail',
      reported: v === undefined ? null : v ? 'on' : 'off',
      expected: 'on',
      reason: v === undefined ? unreported('real-time protection state') : v ? 'real-time protection is on' : 'real-time protection is off',
      fix:
        v === false
          ? `Turn on real-time protection: open Windows Security > Virus & threat protection > Manage settings and switch "Real-time protection" on; ${SYNC_HINT}.`
          : '',
    };
    results.push(r);
  }
  if (rules.maxDaysWithoutCheckIn !== null) {
    const limitMs = rules.maxDaysWithoutCheckIn * 86400_000;
    const last = input.lastCheckInAt;
    const days = last ? Math.floor((now.getTime() - last.getTime()) / 86400_000) : null;
    const ok = last !== null && now.getTime() - last.getTime() <= limitMs;
    results.push({
      rule: 'checkIn',
      title: 'Recent check-in',
      status: last === null ? 'unknown' : ok ? 'pass' : 'fail',
      reported: last ? last.toISOString() : null,
      expected: `at least every ${rules.maxDaysWithoutCheckIn} days`,
      reason:
        last === null
          ? 'the device has not checked in yet'
          : ok
            ? `last check-in ${days === 0 ? 'today' : `${days} day${days === 1 ? '' : 's'} ago`}`
            : `no check-in for ${days} days (the limit is ${rules.maxDaysWithoutCheckIn})`,
      fix: ok || last === null ? '' : `Connect the device to the internet and sync it: ${SYNC_HINT.replace(/^then /, '')}.`,
    });
  }

  const failing = results.filter((r) => r.status === 'fail');
  const unknown = results.filter((r) => r.status === 'unknown');
  let state: ComplianceState;
  let failingSince: Date | null = null;
  let graceEndsAt: Date | null = null;
  if (failing.length > 0) {
    failingSince = input.failingSince && input.failingSince.getTime() <= now.getTime() ? input.failingSince : now;
    const ends = new Date(failingSince.getTime() + rules.gracePeriodHours * 3600_000);
    // A device that stopped checking in gets no grace: the check-in limit is its own grace.
    const staleOnly = failing.every((r) => r.rule === 'checkIn');
    if (!staleOnly && rules.gracePeriodHours > 0 && now.getTime() < ends.getTime()) {
      state = 'inGrace';
      graceEndsAt = ends;
    } else {
      state = 'noncompliant';
    }
  } else if (unknown.length > 0) {
    state = 'unknown';
  } else {
    state = 'compliant';
  }

  const summary =
    state === 'compliant'
      ? results.length === 0
        ? 'compliant: no compliance rules are set'
        : 'compliant: every rule passes'
      : state === 'unknown'
        ? `unknown: ${unknown.map((r) => r.reason).join('; ')}`
        : `${state === 'inGrace' ? `in grace until ${graceEndsAt?.toISOString()}` : 'noncompliant'}: ${failing.map((r) => r.reason).join('; ')}`;
  return { state, rules: results, summary, failingSince, graceEndsAt };
}

const FIREWALL: Record<number, string> = {
  0: 'on',
  1: 'off',
  2: 'not protecting every network',
  3: 'temporarily not protecting every network',
  4: 'not available on this device',
};
const ANTIVIRUS: Record<number, string> = {
  0: 'on',
  1: 'off',
  2: 'not monitoring the device (some options are off)',
  3: 'temporarily not fully monitoring the device',
  4: 'not available on this device',
};
const ANTISPYWARE: Record<number, string> = {
  0: 'on',
  1: 'not monitored by Windows Security',
  2: 'in poor health',
  3: 'snoozed',
};

function statusRule(p: {
  rule: RuleId;
  title: string;
  expected: string;
  value: number | undefined;
  pass: boolean;
  describe: (n: number) => string;
  unreported: string;
  failReason: string;
  fix: string;
}): RuleResult {
  if (p.value === undefined) {
    return { rule: p.rule, title: p.title, status: 'unknown', reported: null, expected: p.expected, reason: p.unreported, fix: '' };
  }
  return {
    rule: p.rule,
    title: p.title,
    status: p.pass ? 'pass' : 'fail',
    reported: p.describe(p.value),
    expected: p.expected,
    reason: p.pass ? `${p.title.toLowerCase()}: ${p.describe(p.value)}` : p.failReason,
    fix: p.pass ? '' : p.fix,
  };
}

/**
 * Checks and normalizes rules from an admin (CLI or API). Returns the problem in words, or the rules.
 */
export function validateRules(r: ComplianceRules): { ok: true; rules: ComplianceRules } | { ok: false; problem: string } {
  const out = { ...r };
  for (const key of ['minOsVersion', 'maxOsVersion'] as const) {
    const v = out[key];
    if (v === null || v === undefined || v.trim() === '') {
      out[key] = null;
      continue;
    }
    if (!parseVersion(v))
      return { ok: false, problem: `${key} must be a dotted Windows version such as 10.0.22631, not "${v.slice(0, 40)}"` };
    out[key] = v.trim();
  }
  if (out.minOsVersion && out.maxOsVersion) {
    const min = parseVersion(out.minOsVersion) ?? [];
    const max = parseVersion(out.maxOsVersion) ?? [];
    if (compareVersionPrefix(max, min) < 0 && compareVersionPrefix(min, max) > 0)
      return { ok: false, problem: `the highest version allowed (${out.maxOsVersion}) is lower than the minimum (${out.minOsVersion})` };
  }
  if (!Number.isInteger(out.gracePeriodHours) || out.gracePeriodHours < 0 || out.gracePeriodHours > MAX_GRACE_HOURS)
    return { ok: false, problem: `the grace period must be a whole number of hours from 0 to ${MAX_GRACE_HOURS}` };
  if (
    out.maxDaysWithoutCheckIn !== null &&
    (!Number.isInteger(out.maxDaysWithoutCheckIn) || out.maxDaysWithoutCheckIn < 1 || out.maxDaysWithoutCheckIn > MAX_DAYS_WITHOUT_CHECK_IN)
  )
    return { ok: false, problem: `days without check-in must be a whole number from 1 to ${MAX_DAYS_WITHOUT_CHECK_IN}, or none` };
  return { ok: true, rules: out };
}

/** What the directory is told: in grace still counts as compliant; unknown writes nothing. */
export function directoryCompliance(state: ComplianceState): boolean | null {
  if (state === 'compliant' || state === 'inGrace') return true;
  if (state === 'noncompliant') return false;
  return null;
}
