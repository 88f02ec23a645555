/**
 * The capability table's rule for installing Available profiles (capabilities.ts): only the primary user,
 * never on a shared device or as another user (with the reasons), and on an app-protection (MAM)
 * registration only profiles within the MAM CSP allow-list; the "What your organisation can see" page
 * lists the action from the same table.
 */
import { describe, expect, it } from 'vitest';
import { profileInstallVerdict, transparencyFor, userActionVerdict } from '../../src/core/management/capabilities.js';
import type { Profile } from '../../src/core/management/ports.js';

const profile = (name: string, paths: string[]): Profile => ({
  id: name,
  name,
  scope: 'device',
  settings: paths.map((path) => ({ path, format: 'int', value: '1' })),
  type: 'custom',
  definition: null,
  version: 1,
  createdAt: new Date(0),
  updatedAt: new Date(0),
});

describe('installing Available profiles', () => {
  it('is for the primary user only, with the reason otherwise', () => {
    expect(userActionVerdict('installProfile', 'primary', 'personal', 'mdm')).toEqual({ allowed: true });
    expect(userActionVerdict('installProfile', 'primary', 'corporate', 'mam')).toEqual({ allowed: true });
    expect(userActionVerdict('installProfile', 'shared', 'corporate', 'mdm')).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/shared device.*only install Available apps/),
    });
    expect(userActionVerdict('installProfile', 'other', 'personal', 'mdm')).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/not the primary user/),
    });
  });

  it('on a MAM registration, refuses a profile with any setting outside the MAM CSP allow-list', () => {
    const lock = profile('Lock', ['Vendor/MSFT/Policy/Config/DeviceLock/MinDevicePasswordLength']);
    const camera = profile('Camera', [
      'Vendor/MSFT/Policy/Config/DeviceLock/MaxInactivityTimeDeviceLock',
      'Vendor/MSFT/Policy/Config/Camera/AllowCamera',
    ]);
    expect(profileInstallVerdict(lock, 'mam')).toEqual({ allowed: true });
    expect(profileInstallVerdict(camera, 'mdm')).toEqual({ allowed: true });
    expect(profileInstallVerdict(camera, 'mam')).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/^Camera cannot be installed on an app-protection \(MAM\) registration: Policy area Camera/),
    });
  });

  it('appears on the "What your organisation can see" page from the same table', () => {
    const mine = transparencyFor('personal', 'mdm').yourActions.find((a) => a.action === 'installProfile');
    expect(mine).toMatchObject({ verdict: 'can', label: expect.stringMatching(/Install Available profiles/) });
    const shared = transparencyFor('corporate', 'mdm', 'shared').yourActions.find((a) => a.action === 'installProfile');
    expect(shared).toMatchObject({ verdict: 'cannot', reason: expect.stringMatching(/shared device/) });
  });
});
