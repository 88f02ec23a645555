/** The pure compliance evaluation: rules + what the device reported + the clock → state and reasons. */
import { describe, expect, it } from 'vitest';
import {
  type ComplianceRules,
  DEFAULT_COMPLIANCE_RULES,
  type ReportedState,
  directoryCompliance,
  evaluateCompliance,
  validateRules,
} from '../../src/core/compliance/evaluate.js';

const NOW = new Date('2025-06-02T12:00:00Z');
const HOUR = 3600_000;

const STRICT: ComplianceRules = {
  ...DEFAULT_COMPLIANCE_RULES,
  minOsVersion: '10.0.22631',
  requireEncryption: true,
  requireFirewall: true,
  requireAntivirus: true,
  requireAntivirusSignatures: true,
  requireRealTimeProtection: true,
};

const HEALTHY: ReportedState = {
  osVersion: '10.0.26100.4061',
  encryptionCompliance: 1,
  firewallStatus: 0,
  antivirusStatus: 0,
  antivirusSignatureStatus: 1,
  antispywareStatus: 0,
  realTimeProtection: true,
  collectedAt: new Date(NOW.getTime() - HOUR),
};

const evaluate = (o: {
  rules?: Partial<ComplianceRules>;
  reported?: Partial<ReportedState>;
  lastCheckInAt?: Date | null;
  failingSince?: Date | null;
  now?: Date;
}) =>
  evaluateCompliance({
    rules: { ...STRICT, ...o.rules },
    reported: { ...HEALTHY, ...o.reported },
    lastCheckInAt: o.lastCheckInAt === undefined ? new Date(NOW.getTime() - HOUR) : o.lastCheckInAt,
    failingSince: o.failingSince ?? null,
    now: o.now ?? NOW,
  });

describe('evaluateCompliance', () => {
  it('a healthy, recent device passes every rule', () => {
    const r = evaluate({});
    expect(r.state).toBe('compliant');
    expect(r.rules.map((x) => x.status)).toEqual(r.rules.map(() => 'pass'));
    expect(r.rules.map((x) => x.rule)).toEqual([
      'minOsVersion',
      'encryption',
      'firewall',
      'antivirus',
      'antivirusSignatures',
      'realTimeProtection',
      'checkIn',
    ]);
    expect(r.summary).toBe('compliant: every rule passes');
    expect(directoryCompliance(r.state)).toBe(true);
  });

  it('no rules at all: compliant, and the summary says why', () => {
    const r = evaluateCompliance({
      rules: { ...DEFAULT_COMPLIANCE_RULES, maxDaysWithoutCheckIn: null },
      reported: { collectedAt: null },
      lastCheckInAt: null,
      failingSince: null,
      now: NOW,
    });
    expect(r.state).toBe('compliant');
    expect(r.summary).toBe('compliant: no compliance rules are set');
  });

  it('firewall off: noncompliant with a reason for the admin and a fix for the user', () => {
    const r = evaluate({ reported: { firewallStatus: 1 } });
    expect(r.state).toBe('noncompliant');
    const fw = r.rules.find((x) => x.rule === 'firewall');
    expect(fw).toMatchObject({ status: 'fail', reported: 'off', reason: 'the firewall is off' });
    expect(fw?.fix).toContain('Windows Security > Firewall & network protection');
    expect(r.summary).toBe('noncompliant: the firewall is off');
    expect(directoryCompliance(r.state)).toBe(false);
  });

  it('each security rule fails on the documented DeviceStatus codes', () => {
    expect(evaluate({ reported: { encryptionCompliance: 0 } }).summary).toContain('not encrypted with BitLocker');
    expect(evaluate({ reported: { firewallStatus: 2 } }).summary).toContain('not protecting every network');
    expect(evaluate({ reported: { antivirusStatus: 1 } }).summary).toContain('the antivirus is off');
    expect(evaluate({ reported: { antivirusSignatureStatus: 0 } }).summary).toContain('out of date');
    expect(evaluate({ reported: { realTimeProtection: false } }).summary).toContain('real-time protection is off');
    expect(evaluate({ rules: { requireAntispyware: true }, reported: { antispywareStatus: 3 } }).summary).toContain('snoozed');
  });

  it('Windows version: compared on the parts the rule gives, minimum and maximum', () => {
    expect(evaluate({ reported: { osVersion: '10.0.22631.1' } }).state).toBe('compliant');
    const old = evaluate({ reported: { osVersion: '10.0.19045.4529' } });
    expect(old.state).toBe('noncompliant');
    expect(old.rules[0]?.reason).toBe('Windows 10.0.19045.4529 is older than the minimum 10.0.22631');
    expect(old.rules[0]?.fix).toContain('Settings > Windows Update');
    expect(evaluate({ rules: { maxOsVersion: '10.0.26100' }, reported: { osVersion: '10.0.26100.9999' } }).state).toBe('compliant');
    expect(evaluate({ rules: { maxOsVersion: '10.0.22631' }, reported: { osVersion: '10.0.26100.1' } }).summary).toContain(
      'newer than the highest version allowed',
    );
  });

  it('not reported yet: unknown, never compliant; after inventory a missing node is named as unreported', () => {
    const fresh = evaluate({ reported: { ...emptyReport(), collectedAt: null } });
    expect(fresh.state).toBe('unknown');
    expect(fresh.rules.find((x) => x.rule === 'firewall')?.reason).toBe('the device has not reported its firewall status yet');
    expect(directoryCompliance(fresh.state)).toBeNull();
    const partial = evaluate({ reported: { realTimeProtection: undefined } });
    expect(partial.state).toBe('unknown');
    expect(partial.rules.find((x) => x.rule === 'realTimeProtection')?.reason).toContain('did not report');
    // A failure outweighs an unknown.
    expect(evaluate({ reported: { realTimeProtection: undefined, firewallStatus: 1 } }).state).toBe('noncompliant');
  });

  it('grace period: in grace from the first failure until it runs out, then noncompliant', () => {
    const rules = { gracePeriodHours: 24 };
    const first = evaluate({ rules, reported: { encryptionCompliance: 0 } });
    expect(first.state).toBe('inGrace');
    expect(first.failingSince).toEqual(NOW);
    expect(first.graceEndsAt).toEqual(new Date(NOW.getTime() + 24 * HOUR));
    expect(directoryCompliance(first.state)).toBe(true);
    const later = evaluate({ rules, reported: { encryptionCompliance: 0 }, failingSince: NOW, now: new Date(NOW.getTime() + 23 * HOUR) });
    expect(later.state).toBe('inGrace');
    const over = evaluate({
      rules,
      reported: { encryptionCompliance: 0 },
      failingSince: NOW,
      now: new Date(NOW.getTime() + 25 * HOUR),
      lastCheckInAt: new Date(NOW.getTime() + 24 * HOUR),
    });
    expect(over.state).toBe('noncompliant');
    // Fixed: failing starts over.
    const fixed = evaluate({ rules, failingSince: NOW });
    expect(fixed).toMatchObject({ state: 'compliant', failingSince: null, graceEndsAt: null });
  });

  it('no check-in for more than N days: noncompliant without grace', () => {
    const r = evaluate({
      rules: { maxDaysWithoutCheckIn: 30, gracePeriodHours: 72 },
      lastCheckInAt: new Date(NOW.getTime() - 31 * 24 * HOUR),
    });
    expect(r.state).toBe('noncompliant');
    expect(r.summary).toBe('noncompliant: no check-in for 31 days (the limit is 30)');
    expect(evaluate({ rules: { maxDaysWithoutCheckIn: null }, lastCheckInAt: new Date(0) }).state).toBe('compliant');
  });
});

describe('validateRules', () => {
  it('refuses versions that are not dotted numbers, bad grace periods and max below min', () => {
    expect(validateRules({ ...STRICT, minOsVersion: 'Windows 11' })).toMatchObject({
      ok: false,
      problem: expect.stringContaining('dotted Windows version'),
    });
    expect(validateRules({ ...STRICT, gracePeriodHours: -1 })).toMatchObject({ ok: false });
    expect(validateRules({ ...STRICT, maxDaysWithoutCheckIn: 0 })).toMatchObject({ ok: false });
    expect(validateRules({ ...STRICT, minOsVersion: '10.0.26100', maxOsVersion: '10.0.22631' })).toMatchObject({
      ok: false,
      problem: expect.stringContaining('lower than the minimum'),
    });
    expect(validateRules({ ...STRICT, minOsVersion: ' 10.0.22631 ', maxOsVersion: '' })).toEqual({
      ok: true,
      rules: { ...STRICT, minOsVersion: '10.0.22631', maxOsVersion: null },
    });
  });
});

function emptyReport(): Partial<ReportedState> {
  return {
    osVersion: undefined,
    encryptionCompliance: undefined,
    firewallStatus: undefined,
    antivirusStatus: undefined,
    antivirusSignatureStatus: undefined,
    antispywareStatus: undefined,
    realTimeProtection: undefined,
  };
}
