/**
 * Apps an organisation offers (the start of the app catalog): what an app is, which Windows builds it
 * fits, and the OMA-DM commands that install it. Store apps go through the EnterpriseModernAppManagement
 * CSP (AppInstallation/{PackageFamilyName}/StoreInstall, with the Store product id), line-of-business MSI
 * packages through the EnterpriseDesktopAppManagement CSP (MSI/{ProductID}/DownloadInstall, with the
 * download URL and the file's SHA-256 so Windows checks what it downloaded). Removing an app is a Delete of
 * the app's node: AppManagement/AppStore/{PackageFamilyName} for a Store app, MSI/{ProductID} for an MSI. Pure.
 */
import { InvalidInputError } from '../../shared/errors.js';
import type { NewCommand } from '../management/ports.js';
import type { AppDefinition } from './ports.js';

export type { AppDefinition, AppKind } from './ports.js';

const PFN = /^[A-Za-z0-9.-]{3,50}_[a-z0-9]{13}$/;
const STORE_ID = /^[A-Za-z0-9]{12}$/;
const GUID = /^\{[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}$/;
const SHA256 = /^[0-9A-Fa-f]{64}$/;

/** Every problem with an app definition, in words; empty when it can be installed. */
export function appProblems(app: AppDefinition): string[] {
  const out: string[] = [];
  if (!app.name.trim()) out.push('the name is empty');
  if (!Number.isInteger(app.minWindowsBuild) || app.minWindowsBuild < 10240)
    out.push('the minimum Windows build must be a build number of Windows 10 or later (10240 or more)');
  if (app.kind === 'store') {
    if (!app.packageFamilyName || !PFN.test(app.packageFamilyName))
      out.push('a Store app needs its package family name (Name_publisherhash, e.g. Microsoft.CompanyPortal_8wekyb3d8bbwe)');
    if (!app.storeProductId || !STORE_ID.test(app.storeProductId)) out.push('a Store app needs its 12-character Store product id');
  } else {
    if (!app.productCode || !GUID.test(app.productCode)) out.push('an MSI app needs its product code, a GUID in braces');
    if (!app.downloadUrl?.startsWith('https://')) out.push('an MSI app needs an https:// download URL');
    if (!app.sha256 || !SHA256.test(app.sha256)) out.push("an MSI app needs the package's SHA-256 (64 hex digits)");
  }
  return out;
}

const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Why Winroll sent an install: `required` (an assignment; removed again when no assignment requires it)
 * or `user` (the Company Portal; never removed unless an assignment says uninstall). Kept in the command's
 * action id, `install-{appId}` for the user's and `install-{appId}~required` for a required one, so the
 * device's command history alone tells what Winroll installed and why.
 */
export type InstallReason = 'required' | 'user';

export const installActionIdOf = (appId: string, reason: InstallReason) => `install-${appId}${reason === 'required' ? '~required' : ''}`;
export const uninstallActionIdOf = (appId: string) => `uninstall-${appId}`;

/** The app, operation and reason an app command's action id carries; undefined for other actions. */
export function parseAppActionId(
  actionId: string,
): { op: 'install'; appId: string; reason: InstallReason } | { op: 'uninstall'; appId: string } | undefined {
  if (actionId.startsWith('uninstall-')) return { op: 'uninstall', appId: actionId.slice('uninstall-'.length) };
  if (!actionId.startsWith('install-')) return undefined;
  const rest = actionId.slice('install-'.length);
  return rest.endsWith('~required')
    ? { op: 'install', appId: rest.slice(0, -'~required'.length), reason: 'required' }
    : { op: 'install', appId: rest, reason: 'user' };
}

/** The node whose Delete removes an app that an install command at `installLocUri` put there (undefined: not an app install). */
export function appNodeOfInstall(installLocUri: string): string | undefined {
  const store = /^(.*\/EnterpriseModernAppManagement)\/AppInstallation\/([^/]+)\/StoreInstall$/i.exec(installLocUri);
  if (store) return `${store[1]}/AppManagement/AppStore/${store[2]}`;
  const msi = /^(.*\/EnterpriseDesktopAppManagement\/MSI\/[^/]+)\/DownloadInstall$/i.exec(installLocUri);
  return msi?.[1];
}

/** The Delete that removes an app from the device, from its catalog definition or from the node an earlier install used. */
export function uninstallCommand(appId: string, source: { app: AppDefinition } | { installLocUri: string }): NewCommand {
  const locUri =
    'app' in source
      ? source.app.kind === 'store'
        ? `./Device/Vendor/MSFT/EnterpriseModernAppManagement/AppManagement/AppStore/${source.app.packageFamilyName ?? ''}`
        : `./Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/${encodeURIComponent(source.app.productCode ?? '')}`
      : appNodeOfInstall(source.installLocUri);
  if (!locUri) throw new InvalidInputError(`no app node behind ${'installLocUri' in source ? source.installLocUri : appId}`);
  return { verb: 'Delete', item: { locUri }, userId: null, origin: { kind: 'action', actionId: uninstallActionIdOf(appId) } };
}

/** The Exec that installs the app for the whole device; its acknowledgement is the install's status. */
export function installCommand(app: AppDefinition, appId: string, reason: InstallReason = 'user'): NewCommand {
  const problems = appProblems(app);
  if (problems.length > 0) throw new InvalidInputError(`${app.name}: ${problems.join('; ')}`);
  const origin = { kind: 'action' as const, actionId: installActionIdOf(appId, reason) };
  if (app.kind === 'store') {
    return {
      verb: 'Exec',
      item: {
        locUri: `./Device/Vendor/MSFT/EnterpriseModernAppManagement/AppInstallation/${app.packageFamilyName}/StoreInstall`,
        format: 'xml',
        type: 'text/plain',
        // flags 0 (no options), skuid 0016: the Store's default SKU for free and organisation-licensed apps.
        data: `<Application id="${xml(app.storeProductId ?? '')}" flags="0" skuid="0016"/>`,
      },
      userId: null,
      origin,
    };
  }
  return {
    verb: 'Exec',
    item: {
      locUri: `./Device/Vendor/MSFT/EnterpriseDesktopAppManagement/MSI/${encodeURIComponent(app.productCode ?? '')}/DownloadInstall`,
      format: 'xml',
      type: 'text/plain',
      data: [
        `<MsiInstallJob id="${xml(app.productCode ?? '')}"><Product Version="${xml(app.version)}">`,
        `<Download><ContentURLList><ContentURL>${xml(app.downloadUrl ?? '')}</ContentURL></ContentURLList></Download>`,
        `<Validation><FileHash>${(app.sha256 ?? '').toUpperCase()}</FileHash></Validation>`,
        '<Enforcement><CommandLine>/quiet</CommandLine><TimeOut>10</TimeOut><RetryCount>1</RetryCount><RetryInterval>5</RetryInterval></Enforcement>',
        '</Product></MsiInstallJob>',
      ].join(''),
    },
    userId: null,
    origin,
  };
}

/** The build number of a reported OS version (`10.0.22631.4317` → 22631), or undefined. */
export function windowsBuild(osVersion: string | null | undefined): number | undefined {
  const m = /^10\.0\.(\d+)/.exec(osVersion ?? '');
  return m?.[1] ? Number(m[1]) : undefined;
}

/**
 * The builds a browser's client hints allow: `Sec-CH-UA-Platform-Version` 13 and up is Windows 11 (build
 * 22000 or later), 1 to 10 Windows 10 (10240 to 19045); the hint does not give the exact build.
 */
export function buildRangeFromPlatformVersion(platformVersion: string | null | undefined): { low: number; high: number } | undefined {
  const major = Number((platformVersion ?? '').split('.')[0]);
  if (!platformVersion || !Number.isFinite(major)) return undefined;
  if (major >= 13) return { low: 22000, high: Number.POSITIVE_INFINITY };
  if (major >= 1) return { low: 10240, high: 19045 };
  return undefined;
}

export type Fit = { fits: 'yes' } | { fits: 'no' | 'unknown'; reason: string };

/**
 * Whether an app fits a device: by the enrolled device's reported build when known, else by the browser's
 * client hints, else unknown (the portal still lists it, saying why it cannot tell).
 */
export function appFits(
  app: Pick<AppDefinition, 'minWindowsBuild' | 'name'>,
  device: { osVersion?: string | null; platformVersion?: string | null },
): Fit {
  const build = windowsBuild(device.osVersion);
  if (build !== undefined)
    return build >= app.minWindowsBuild
      ? { fits: 'yes' }
      : { fits: 'no', reason: `${app.name} needs Windows build ${app.minWindowsBuild} or later; this device runs build ${build}` };
  const range = buildRangeFromPlatformVersion(device.platformVersion);
  if (range) {
    if (range.low >= app.minWindowsBuild) return { fits: 'yes' };
    if (range.high < app.minWindowsBuild)
      return { fits: 'no', reason: `${app.name} needs Windows build ${app.minWindowsBuild} or later; this browser runs on Windows 10` };
    return {
      fits: 'unknown',
      reason: `${app.name} needs Windows build ${app.minWindowsBuild}; the browser reports Windows 11 without the exact build`,
    };
  }
  return { fits: 'unknown', reason: 'the Windows version of this device is not known yet' };
}

/** The apps that fit, with those that do not left out (the portal shows only what can be installed). */
export function filterForDevice<T extends Pick<AppDefinition, 'minWindowsBuild' | 'name'>>(
  apps: T[],
  device: { osVersion?: string | null; platformVersion?: string | null },
): Array<T & { fit: Fit }> {
  return apps.map((a) => ({ ...a, fit: appFits(a, device) })).filter((a) => a.fit.fits !== 'no');
}
