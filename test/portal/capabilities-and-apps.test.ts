/**
 * The one table of what may be done and read (capabilities.ts) and the app catalog's rules (apps/catalog.ts):
 * the "What your organisation can see" descriptor lists exactly the nodes the session engine reads, and the
 * actions the code refuses; apps are filtered by the reported build or the browser's client hints.
 */
import { describe, expect, it } from 'vitest';
import { appFits, appProblems, filterForDevice, installCommand } from '../../src/core/apps/catalog.js';
import { commandForAction } from '../../src/core/management/actions.js';
import { adminActionVerdict, transparencyFor, userActionVerdict } from '../../src/core/management/capabilities.js';
import { INVENTORY_NODES } from '../../src/core/management/inventory.js';
import { MAM_INVENTORY_NODES } from '../../src/core/management/mam-csp.js';

describe('What your organisation can see', () => {
  it('lists every inventory node the engine reads, for MDM and for MAM', () => {
    expect(transparencyFor('personal', 'mdm').collected.map((c) => c.locUri)).toEqual(INVENTORY_NODES.map((n) => n.locUri));
    expect(transparencyFor('personal', 'mam').collected.map((c) => c.locUri)).toEqual([...MAM_INVENTORY_NODES]);
    for (const c of transparencyFor('corporate', 'mdm').collected) expect(c.label).not.toMatch(/^\.\//);
  });

  it('says "cannot" exactly where the action code refuses, with the same reason', () => {
    for (const ownership of ['personal', 'corporate'] as const) {
      for (const row of transparencyFor(ownership, 'mdm').organisationActions) {
        const kind = row.action as 'sync' | 'restart' | 'rename' | 'wipe' | 'retire' | 'delete';
        const action =
          kind === 'rename' ? { kind, name: 'PC-1' } : kind === 'wipe' ? { kind, keepEnrollment: false } : ({ kind } as { kind: 'sync' });
        const run = () => commandForAction(action as never, 'a1', { ownership, providerId: 'p' });
        if (row.verdict === 'can') expect(run).not.toThrow();
        else expect(run).toThrow(row.reason ?? '');
      }
    }
    const wipe = transparencyFor('personal', 'mdm').organisationActions.find((a) => a.action === 'wipe');
    expect(wipe).toMatchObject({ verdict: 'cannot', reason: expect.stringMatching(/personal device cannot be wiped/) });
    expect(transparencyFor('corporate', 'mdm').organisationActions.find((a) => a.action === 'wipe')?.verdict).toBe('can');
  });

  it('the primary user may reset a personal device the organisation may not wipe', () => {
    expect(adminActionVerdict('wipe', 'personal', 'mdm').allowed).toBe(false);
    expect(userActionVerdict('wipe', 'primary', 'personal', 'mdm').allowed).toBe(true);
    expect(() =>
      commandForAction({ kind: 'wipe', keepEnrollment: false }, 'a', { ownership: 'personal', providerId: 'p', by: 'primary-user' }),
    ).not.toThrow();
    expect(userActionVerdict('retire', 'shared', 'corporate', 'mdm')).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/shared device/),
    });
    expect(userActionVerdict('installApp', 'shared', 'corporate', 'mdm').allowed).toBe(true);
    expect(userActionVerdict('installApp', 'other', 'corporate', 'mdm')).toMatchObject({
      allowed: false,
      reason: expect.stringMatching(/not the primary user/),
    });
  });
});

describe('app catalog rules', () => {
  const store = {
    name: 'Company Portal',
    publisher: 'Microsoft',
    version: '11.2',
    kind: 'store' as const,
    packageFamilyName: 'Microsoft.CompanyPortal_8wekyb3d8bbwe',
    storeProductId: '9WZDNCRFJ3PZ',
    minWindowsBuild: 10240,
  };
  const msi = {
    name: 'Tool',
    publisher: 'Contoso',
    version: '2.0.1',
    kind: 'msi' as const,
    productCode: '{12345678-1234-1234-1234-123456789ABC}',
    downloadUrl: 'https://files.contoso.com/tool.msi',
    sha256: 'a'.repeat(64),
    minWindowsBuild: 22000,
  };

  it('builds the Store and MSI install commands on the documented CSP nodes', () => {
    const s = installCommand(store, 'i1');
    expect(s.verb).toBe('Exec');
    expect(s.item.locUri).toBe(
      './Device/Vendor/MSFT/EnterpriseModernAppManagement/AppInstallation/Microsoft.CompanyPortal_8wekyb3d8bbwe/StoreInstall',
    );
    expect(s.item.data).toBe('<Application id="9WZDNCRFJ3PZ" flags="0" skuid="0016"/>');
    const m = installCommand(msi, 'i2');
    expect(m.item.locUri).toBe(
      './Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/%7B12345678-1234-1234-1234-123456789ABC%7D/DownloadInstall',
    );
    expect(m.item.data).toContain('<ContentURL>https://files.contoso.com/tool.msi</ContentURL>');
    expect(m.item.data).toContain(`<FileHash>${'A'.repeat(64)}</FileHash>`);
    expect(appProblems({ ...msi, downloadUrl: 'http://x', sha256: 'x' })).toHaveLength(2);
    expect(() => installCommand({ ...store, storeProductId: 'nope' }, 'i3')).toThrow(/Store product id/);
  });

  it('filters by the reported build, else by client hints (Windows 11 reports 13 and up)', () => {
    expect(appFits(msi, { osVersion: '10.0.22631.4317' })).toEqual({ fits: 'yes' });
    expect(appFits(msi, { osVersion: '10.0.19045.1' })).toMatchObject({ fits: 'no', reason: expect.stringMatching(/build 19045/) });
    expect(appFits(msi, { platformVersion: '15.0.0' })).toEqual({ fits: 'yes' });
    expect(appFits(msi, { platformVersion: '10.0.0' })).toMatchObject({ fits: 'no' });
    expect(appFits(msi, {})).toMatchObject({ fits: 'unknown' });
    expect(filterForDevice([store, msi], { platformVersion: '10.0.0' }).map((a) => a.name)).toEqual(['Company Portal']);
    expect(filterForDevice([store, msi], { osVersion: '10.0.26100.1' }).map((a) => a.name)).toEqual(['Company Portal', 'Tool']);
  });
});
