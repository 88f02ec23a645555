/**
 * The pure half of background install results (core/apps/app-results.ts): which alerts are install
 * results, how result codes read (decimal, negative or hex HRESULTs; msiexec's reboot codes count as
 * installed), and what an install command's outcome is before and after its result is recorded.
 */
import { describe, expect, it } from 'vitest';
import { installAlerts, installOutcome, isSuccessCode, parseCode, resultMeaning } from '../../src/core/apps/app-results.js';
import type { QueuedCommand } from '../../src/core/management/ports.js';

const MSI = './Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/%7B1803A630-3C38-4D2B-9B9A-0CB37243539C%7D/DownloadInstall';

const command = (over: Partial<QueuedCommand>): QueuedCommand => ({
  id: 'c1',
  seq: 1,
  devicePk: 'd1',
  verb: 'Exec',
  item: { locUri: MSI },
  userId: null,
  origin: { kind: 'action', actionId: 'install-a1~required' },
  state: 'acknowledged',
  sentSession: null,
  sentMsgId: null,
  attempts: 1,
  status: 202,
  results: null,
  createdAt: new Date(0),
  updatedAt: new Date(0),
  ...over,
});

describe('background install results', () => {
  it('takes win32csp_install alerts (1226, or 1224 as in the CSP example) and nothing else', () => {
    const item = (type: string, data = '0') => ({ source: MSI, meta: { type, format: 'int' }, data, moreData: false });
    const found = installAlerts([
      { kind: 'Alert', cmdId: '2', data: 1226, items: [item('Reversed-Domain-Name:com.microsoft.mdm.win32csp_install', '1603')] },
      { kind: 'Alert', cmdId: '3', data: 1224, items: [item('Reversed-Domain-Name:com.microsoft.mdm.win32csp_install')] },
      { kind: 'Alert', cmdId: '4', data: 1226, items: [item('com.microsoft:mdm.unenrollment.userrequest', '1')] },
      { kind: 'Alert', cmdId: '5', data: 1201, items: [] },
    ]);
    expect(found).toEqual([
      { source: MSI, data: '1603' },
      { source: MSI, data: '0' },
    ]);
  });

  it('reads result codes and tells success from failure', () => {
    expect(parseCode(' 0 ')).toBe(0);
    expect(parseCode('-2147023293')).toBe(-2147023293);
    expect(parseCode('0x80070643')).toBe(0x80070643);
    expect(parseCode('installed')).toBeUndefined();
    expect([0, 3010, 1641, 0x80070bc2].map(isSuccessCode)).toEqual([true, true, true, true]);
    expect([1603, -2147023293, 0x80070643].map(isSuccessCode)).toEqual([false, false, false]);
    expect(resultMeaning(-2147023293)).toMatch(/msiexec 1603/);
    expect(resultMeaning(1618)).toMatch(/another installation/);
    expect(resultMeaning(0x80073cf9)).toBe('the device reported HRESULT 0x80073CF9');
    expect(resultMeaning(null)).toMatch(/no result code/);
  });

  it('an accepted MSI or Store install is installing until a result is recorded on it; other commands are done when acknowledged', () => {
    expect(installOutcome(command({}))).toBe('installing');
    expect(
      installOutcome(
        command({
          results: [
            { locUri: MSI, data: 'failed' },
            { locUri: MSI, format: 'int', data: '1603' },
          ],
        }),
      ),
    ).toBe('failed');
    expect(installOutcome(command({ results: [{ locUri: MSI, data: 'installed' }] }))).toBe('installed');
    expect(installOutcome(command({ state: 'failed', status: 500 }))).toBe('failed');
    expect(installOutcome(command({ state: 'sent' }))).toBe('sent');
    expect(installOutcome(command({ item: { locUri: './Device/Vendor/MSFT/Other/Node' } }))).toBe('installed');
  });
});
