/**
 * Every cell of the precedence table (MDM scope only / MAM only / both / neither × personal / corporate ×
 * user / automatic enrollment) and every restriction type, through the one decision function.
 */
import { describe, expect, it } from 'vitest';
import { type DecisionInput, compareVersions, decideEnrollment } from '../../src/core/policy/decide.js';

const G_MDM = 'g-mdm';
const G_MAM = 'g-mam';

function input(overrides: Partial<DecisionInput> = {}): DecisionInput {
  return {
    user: { upn: 'alice@contoso.com', enabled: true, licensed: true, isDem: false, groupIds: [] },
    method: 'automatic',
    enrollmentType: 'Full',
    osVersion: '10.0.22631.4391',
    corporateIdentifiers: { exist: false, match: false },
    mdmScope: { mode: 'some', groupIds: [G_MDM] },
    mamScope: { mode: 'some', groupIds: [G_MAM] },
    platform: { name: 'Default', windowsMdm: 'allow', minOsVersion: null, maxOsVersion: null, blockPersonal: false },
    deviceLimit: { name: 'Default', limit: 5 },
    userDeviceCount: 0,
    demDeviceCount: 0,
    ...overrides,
  };
}

const membership = { 'MDM only': [G_MDM], 'MAM only': [G_MAM], both: [G_MDM, G_MAM], neither: [] } as const;
// Automatic: personal = add work account (Full), corporate = directory join (Device).
const automatic = { personal: 'Full', corporate: 'Device' } as const;

describe('precedence of the MDM and MAM user scopes', () => {
  const expected: Record<string, Record<string, 'mdm' | 'mam' | 'refused'>> = {
    'MDM only': { personal: 'mdm', corporate: 'mdm' },
    'MAM only': { personal: 'mam', corporate: 'mam' },
    both: { personal: 'mam', corporate: 'mdm' },
    neither: { personal: 'refused', corporate: 'refused' },
  };
  for (const [cell, groups] of Object.entries(membership)) {
    for (const own of ['personal', 'corporate'] as const) {
      it(`automatic enrollment, user in ${cell}, ${own} device → ${expected[cell]?.[own]}`, () => {
        const d = decideEnrollment(
          input({
            enrollmentType: automatic[own],
            user: { upn: 'alice@contoso.com', enabled: true, licensed: true, isDem: false, groupIds: [...groups] },
          }),
        );
        expect(d.ownership).toBe(own);
        expect(d.outcome).toBe(expected[cell]?.[own]);
        if (d.outcome === 'refused') {
          expect(d.subcode).toBe('Authorization');
          expect(d.reasons.at(-1)).toMatch(/neither the MDM nor the MAM user scope/);
        }
        if (cell === 'both') expect(d.reasons.join('\n')).toMatch(own === 'personal' ? /MAM takes precedence/ : /MDM takes precedence/);
      });
      it(`user enrollment, user in ${cell}, ${own} device → mdm (scopes do not apply)`, () => {
        // A user-started enrollment is personal; the corporate counterpart is a device enrollment manager.
        const d = decideEnrollment(
          input({
            method: own === 'personal' ? 'user' : 'dem',
            enrollmentType: own === 'personal' ? 'Full' : 'Device',
            user: { upn: 'alice@contoso.com', enabled: true, licensed: true, isDem: own === 'corporate', groupIds: [...groups] },
          }),
        );
        expect(d.ownership).toBe(own);
        expect(d.outcome).toBe('mdm');
      });
    }
  }
  it('scope "All" covers everyone and "None" nobody', () => {
    expect(decideEnrollment(input({ mdmScope: { mode: 'all', groupIds: [] }, mamScope: { mode: 'none', groupIds: [] } })).outcome).toBe(
      'mdm',
    );
    expect(decideEnrollment(input({ mdmScope: { mode: 'none', groupIds: [] }, mamScope: { mode: 'none', groupIds: [] } })).outcome).toBe(
      'refused',
    );
    expect(decideEnrollment(input({ mdmScope: { mode: 'all', groupIds: [] }, mamScope: { mode: 'all', groupIds: [] } })).outcome).toBe(
      'mam',
    );
  });
});

describe('user checks and restrictions', () => {
  const user = (o: Partial<NonNullable<DecisionInput['user']>>) => ({
    upn: 'alice@contoso.com',
    enabled: true,
    licensed: true,
    isDem: false,
    groupIds: [G_MDM],
    ...o,
  });
  it.each([
    ['a disabled user', input({ user: user({ enabled: false }) }), undefined, /disabled/],
    ['an unlicensed user (0x80180018)', input({ user: user({ licensed: false }) }), 'UserLicense', /no Winroll license/],
    [
      'Windows MDM blocked',
      input({
        user: user({}),
        platform: { name: 'No Windows', windowsMdm: 'block', minOsVersion: null, maxOsVersion: null, blockPersonal: false },
      }),
      'DeviceNotSupported',
      /"No Windows" blocks Windows MDM/,
    ],
    [
      'an OS below the minimum',
      input({
        user: user({}),
        platform: { name: 'Win11 only', windowsMdm: 'allow', minOsVersion: '10.0.22000', maxOsVersion: null, blockPersonal: false },
        osVersion: '10.0.19045.2965',
      }),
      'DeviceNotSupported',
      /older than 10\.0\.22000/,
    ],
    [
      'an OS above the maximum',
      input({
        user: user({}),
        platform: {
          name: 'Pinned',
          windowsMdm: 'allow',
          minOsVersion: null,
          maxOsVersion: '10.0.22631',
          osVersion: '10.0.26100.1',
        } as never,
        osVersion: '10.0.26100.1',
      }),
      'DeviceNotSupported',
      /newer than 10\.0\.22631/,
    ],
    [
      'a personal device when personal is blocked',
      input({
        user: user({}),
        platform: { name: 'Corp only', windowsMdm: 'allow', minOsVersion: null, maxOsVersion: null, blockPersonal: true },
      }),
      'DeviceNotSupported',
      /blocks personally owned/,
    ],
    [
      'the device limit reached (0x80180013)',
      input({ method: 'user', user: user({}), deviceLimit: { name: 'Two', limit: 2 }, userDeviceCount: 2 }),
      'DeviceCapReached',
      /already has 2 enrolled devices; restriction "Two" allows 2/,
    ],
    [
      'a DEM at 1,000 devices',
      input({ method: 'dem', enrollmentType: 'Device', user: user({ isDem: true }), demDeviceCount: 1000 }),
      'DeviceCapReached',
      /limit 1000/,
    ],
  ])('refuses %s', (_name, inp, errorType, reason) => {
    const d = decideEnrollment(inp);
    expect(d.outcome).toBe('refused');
    expect(d.errorType).toBe(errorType);
    expect(d.reasons.at(-1)).toMatch(reason);
    expect(d.userMessage).toBeTruthy();
  });

  it('lets a corporate join through when personal devices are blocked, and exempts it from the device limit', () => {
    const d = decideEnrollment(
      input({
        user: user({}),
        enrollmentType: 'Device',
        platform: { name: 'Corp only', windowsMdm: 'allow', minOsVersion: null, maxOsVersion: null, blockPersonal: true },
        deviceLimit: { name: 'One', limit: 1 },
        userDeviceCount: 5,
      }),
    );
    expect(d).toMatchObject({ outcome: 'mdm', ownership: 'corporate' });
    expect(d.reasons.at(-1)).toMatch(/per-user device limit does not apply/);
  });

  it('counts the device being enrolled against the limit in the explanation', () => {
    const d = decideEnrollment(input({ method: 'user', deviceLimit: { name: 'Five', limit: 5 }, userDeviceCount: 4 }));
    expect(d.outcome).toBe('mdm');
    expect(d.reasons.at(-1)).toBe('device limit "Five": 5 of 5');
  });

  it('corporate identifiers flip a directory join to personal unless the device is listed', () => {
    expect(decideEnrollment(input({ enrollmentType: 'Device', corporateIdentifiers: { exist: true, match: false } })).ownership).toBe(
      'personal',
    );
    expect(decideEnrollment(input({ enrollmentType: 'Device', corporateIdentifiers: { exist: true, match: true } })).ownership).toBe(
      'corporate',
    );
    // A provisioning package stays corporate whatever the identifiers say.
    expect(
      decideEnrollment(input({ method: 'bulk', enrollmentType: 'Device', corporateIdentifiers: { exist: true, match: false } })).ownership,
    ).toBe('corporate');
  });

  it('compares Windows versions numerically', () => {
    expect(compareVersions('10.0.9999', '10.0.10000')).toBe(-1);
    expect(compareVersions('10.0.22631', '10.0.22631.0')).toBe(0);
  });
});
