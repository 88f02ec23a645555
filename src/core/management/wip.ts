/**
 * Windows Information Protection (WIP) as a profile type: the admin names the enterprise, the protection
 * level, the corporate network and the apps allowed to handle corporate data; this module checks those
 * fields and compiles them into the CSP settings WIP needs (Microsoft's EnterpriseDataProtection CSP,
 * the AppLocker CSP's EnterpriseDataProtection node and the Policy CSP's NetworkIsolation area). Every
 * compiled node is one a MAM registration accepts, so a WIP profile goes to MDM and MAM devices alike.
 * Pure.
 */
import { createHash } from 'node:crypto';
import { InvalidInputError } from '../../shared/errors.js';
import type { ProfileSetting } from './ports.js';

/** EDPEnforcementLevel: 0 off, 1 silent (encrypt and audit), 2 override (prompt, allow), 3 block (prompt, hide overrides). */
export const WIP_ENFORCEMENT = { off: 0, silent: 1, override: 2, block: 3 } as const;
export type WipEnforcement = keyof typeof WIP_ENFORCEMENT;

export interface WipApp {
  /** `store` (packaged app, AppLocker StoreApps) or `desktop` (AppLocker EXE). */
  kind: 'store' | 'desktop';
  /** Signer subject, e.g. `O=Microsoft Corporation, L=Redmond, S=Washington, C=US`, or `CN=...` for a package publisher. */
  publisher: string;
  /** Package name (store) or product name (desktop); `*` for every product of the publisher. */
  product: string;
  /** Desktop apps: the file name; `*` for every binary. */
  binary: string;
}

export interface WipPolicy {
  /** The primary enterprise ID (the managing identity domain), e.g. `contoso.com`. */
  enterpriseId: string;
  enforcement: WipEnforcement;
  /** Further identity domains whose accounts are corporate (after the enterprise ID). */
  protectedDomains: string[];
  /** Network domains inside the corporate boundary (NetworkIsolation/EnterpriseNetworkDomainNames); default: the identity domains. */
  networkDomains: string[];
  /** Corporate IP ranges, `first-last` (NetworkIsolation/EnterpriseIPRange). */
  ipRanges: string[];
  /** Corporate cloud resources, `host` or `host,proxy` (NetworkIsolation/EnterpriseCloudResources). */
  cloudResources: string[];
  allowedApps: WipApp[];
  /** Raw AppLocker RuleCollection XML, for admins who export rules from the AppLocker tools. */
  appLockerXml: { storeApps: string | null; exe: string | null };
  /** Revoke the WIP keys (selective wipe) when the device leaves management. Default true. */
  revokeOnUnenroll: boolean;
  /** Base64 of the EFS data recovery agent (DRA) policy blob Windows expects (DataRecoveryCertificate); optional. */
  dataRecoveryCertificate: string | null;
  /** Overlay icons on protected files and apps. Default false. */
  showIcons: boolean;
}

const DOMAIN = /^(?=.{1,253}$)(?!-)[a-z0-9-]{1,63}(?:\.(?!-)[a-z0-9-]{1,63})+$/;
const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)$/;
const IPV6 = /^[0-9a-f:]{2,39}$/i;
const BASE64 = /^[A-Za-z0-9+/\r\n]+={0,2}$/;

const fail = (field: string, why: string): never => {
  throw new InvalidInputError(`wip.${field}: ${why}`);
};

function list(raw: unknown, field: string): string[] {
  if (raw === undefined || raw === null) return [];
  const items = typeof raw === 'string' ? raw.split(/[,|\n]/) : Array.isArray(raw) ? raw : fail(field, 'must be a list');
  const out = items.map((v, i) => (typeof v === 'string' ? v.trim() : fail(`${field}[${i}]`, 'must be text'))).filter((v) => v !== '');
  if (out.length > 200) fail(field, 'holds at most 200 entries');
  return out;
}

/** Windows wants canonical (lower-case) domain names; anything else is refused by the client. */
function domain(raw: string, field: string): string {
  const d = raw.toLowerCase().replace(/\.$/, '');
  if (!DOMAIN.test(d)) fail(field, `"${raw.slice(0, 80)}" is not a domain name like contoso.com`);
  return d;
}

function ipRange(raw: string, field: string): string {
  const [first, last, ...rest] = raw.split('-').map((p) => p.trim());
  const isIp = (v: string | undefined) => v !== undefined && (IPV4.test(v) || (v.includes(':') && IPV6.test(v)));
  if (rest.length > 0 || !isIp(first) || !isIp(last) || IPV4.test(first ?? '') !== IPV4.test(last ?? '')) {
    fail(field, `"${raw.slice(0, 80)}" is not a range like 10.0.0.0-10.255.255.255`);
  }
  return `${first}-${last}`;
}

function text(raw: unknown, field: string, max: number): string {
  if (typeof raw !== 'string' || raw.trim() === '') return fail(field, 'is required');
  if (raw.length > max) fail(field, `is longer than ${max} characters`);
  return raw.trim();
}

function bool(raw: unknown, field: string, fallback: boolean): boolean {
  if (raw === undefined || raw === null) return fallback;
  if (typeof raw !== 'boolean') fail(field, 'must be true or false');
  return raw as boolean;
}

function appLockerCollection(raw: unknown, field: string): string | null {
  if (raw === undefined || raw === null || raw === '') return null;
  const xml = text(raw, field, 200_000);
  if (!/^<RuleCollection[\s>]/.test(xml) || !/<\/RuleCollection>\s*$|\/>\s*$/.test(xml)) {
    fail(field, 'must be one AppLocker <RuleCollection> element (as exported by the AppLocker tools)');
  }
  return xml;
}

/** Checks the named fields of a WIP profile; the message names the offending field. */
export function validateWipPolicy(raw: unknown): WipPolicy {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new InvalidInputError('a WIP profile needs a "wip" object');
  const w = raw as Record<string, unknown>;
  const enterpriseId = domain(text(w.enterpriseId, 'enterpriseId', 253), 'enterpriseId');
  const enforcementRaw = w.enforcement ?? 'override';
  if (typeof enforcementRaw !== 'string' || !(enforcementRaw in WIP_ENFORCEMENT)) {
    fail('enforcement', `must be one of ${Object.keys(WIP_ENFORCEMENT).join(', ')}`);
  }
  const protectedDomains = list(w.protectedDomains, 'protectedDomains')
    .map((d, i) => domain(d, `protectedDomains[${i}]`))
    .filter((d) => d !== enterpriseId);
  const networkDomains = list(w.networkDomains, 'networkDomains').map((d, i) => domain(d, `networkDomains[${i}]`));
  const ipRanges = list(w.ipRanges, 'ipRanges').map((r, i) => ipRange(r, `ipRanges[${i}]`));
  const cloudResources = list(w.cloudResources, 'cloudResources').map((r, i) => {
    const [host = '', proxy] = r.split(',').map((p) => p.trim());
    const h = domain(host, `cloudResources[${i}]`);
    return proxy ? `${h},${proxy}` : h;
  });
  const appsRaw = w.allowedApps ?? [];
  if (!Array.isArray(appsRaw)) fail('allowedApps', 'must be a list of {kind, publisher, product, binary}');
  const allowedApps = (appsRaw as unknown[]).map((a, i): WipApp => {
    const f = `allowedApps[${i}]`;
    if (!a || typeof a !== 'object') return fail(f, 'must be {kind, publisher, product, binary}');
    const app = a as Record<string, unknown>;
    const kind = app.kind ?? 'store';
    if (kind !== 'store' && kind !== 'desktop') fail(`${f}.kind`, 'must be store or desktop');
    return {
      kind: kind as WipApp['kind'],
      publisher: text(app.publisher, `${f}.publisher`, 1024),
      product: typeof app.product === 'string' && app.product.trim() !== '' ? app.product.trim().slice(0, 512) : '*',
      binary: typeof app.binary === 'string' && app.binary.trim() !== '' ? app.binary.trim().slice(0, 512) : '*',
    };
  });
  if (allowedApps.length > 200) fail('allowedApps', 'holds at most 200 apps');
  const xmlRaw = (w.appLockerXml ?? {}) as Record<string, unknown>;
  if (typeof xmlRaw !== 'object' || Array.isArray(xmlRaw)) fail('appLockerXml', 'must be {storeApps, exe}');
  const appLockerXml = {
    storeApps: appLockerCollection(xmlRaw.storeApps, 'appLockerXml.storeApps'),
    exe: appLockerCollection(xmlRaw.exe, 'appLockerXml.exe'),
  };
  const enforcement = enforcementRaw as WipEnforcement;
  if (enforcement !== 'off' && allowedApps.length === 0 && !appLockerXml.storeApps && !appLockerXml.exe) {
    // WIP is only on once AppLocker names the apps allowed to touch corporate data (EnterpriseDataProtection Status bit 1).
    fail('allowedApps', `WIP enforcement "${enforcement}" needs at least one allowed app (or appLockerXml)`);
  }
  let dataRecoveryCertificate: string | null = null;
  if (w.dataRecoveryCertificate !== undefined && w.dataRecoveryCertificate !== null && w.dataRecoveryCertificate !== '') {
    const b = text(w.dataRecoveryCertificate, 'dataRecoveryCertificate', 64 * 1024).replace(/\s+/g, '');
    if (!BASE64.test(b)) fail('dataRecoveryCertificate', 'must be base64');
    dataRecoveryCertificate = b;
  }
  return {
    enterpriseId,
    enforcement,
    protectedDomains: [...new Set(protectedDomains)],
    networkDomains: [...new Set(networkDomains)],
    ipRanges,
    cloudResources,
    allowedApps,
    appLockerXml,
    revokeOnUnenroll: bool(w.revokeOnUnenroll, 'revokeOnUnenroll', true),
    dataRecoveryCertificate,
    showIcons: bool(w.showIcons, 'showIcons', false),
  };
}

const xmlAttr = (v: string) => v.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A deterministic rule id, so recompiling an unchanged profile yields the same settings (no resend). */
function ruleId(seed: string): string {
  const h = createHash('sha256').update(seed).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function ruleCollection(type: 'Appx' | 'Exe', apps: WipApp[]): string {
  const rules = apps
    .map((a) => {
      const id = ruleId(`${type}|${a.publisher}|${a.product}|${a.binary}`);
      return (
        `<FilePublisherRule Id="${id}" Name="${xmlAttr(a.product === '*' ? a.publisher : a.product)}" Description="" UserOrGroupSid="S-1-1-0" Action="Allow">` +
        `<Conditions><FilePublisherCondition PublisherName="${xmlAttr(a.publisher)}" ProductName="${xmlAttr(a.product)}" BinaryName="${xmlAttr(a.binary)}">` +
        `<BinaryVersionRange LowSection="0.0.0.0" HighSection="*" /></FilePublisherCondition></Conditions></FilePublisherRule>`
      );
    })
    .join('');
  return `<RuleCollection Type="${type}" EnforcementMode="Enabled">${rules}</RuleCollection>`;
}

/** The AppLocker grouping node for a profile: stable per profile, so its rules are replaced, never duplicated. */
export function wipGrouping(profileName: string): string {
  return `Winroll${profileName.replace(/[^A-Za-z0-9]/g, '')}`.slice(0, 64);
}

/** The device-scope settings a WIP profile stands for (paths below ./Device/). */
export function compileWip(profileName: string, p: WipPolicy): ProfileSetting[] {
  const edp = 'Vendor/MSFT/EnterpriseDataProtection/Settings';
  const iso = 'Vendor/MSFT/Policy/Config/NetworkIsolation';
  const identity = [p.enterpriseId, ...p.protectedDomains];
  const settings: ProfileSetting[] = [
    { path: `${edp}/EDPEnforcementLevel`, format: 'int', value: String(WIP_ENFORCEMENT[p.enforcement]) },
    // The first domain is the enterprise ID, the managing authority for WIP.
    { path: `${edp}/EnterpriseProtectedDomainNames`, format: 'chr', value: identity.join('|') },
    { path: `${edp}/RevokeOnUnenroll`, format: 'int', value: p.revokeOnUnenroll ? '1' : '0' },
    { path: `${edp}/EDPShowIcons`, format: 'int', value: p.showIcons ? '1' : '0' },
  ];
  if (p.dataRecoveryCertificate) settings.push({ path: `${edp}/DataRecoveryCertificate`, format: 'b64', value: p.dataRecoveryCertificate });
  settings.push({
    path: `${iso}/EnterpriseNetworkDomainNames`,
    format: 'chr',
    value: (p.networkDomains.length > 0 ? p.networkDomains : identity).join(','),
  });
  if (p.ipRanges.length > 0) settings.push({ path: `${iso}/EnterpriseIPRange`, format: 'chr', value: p.ipRanges.join(',') });
  if (p.cloudResources.length > 0)
    settings.push({ path: `${iso}/EnterpriseCloudResources`, format: 'chr', value: p.cloudResources.join('|') });
  const grouping = `Vendor/MSFT/AppLocker/EnterpriseDataProtection/${wipGrouping(profileName)}`;
  const store = p.allowedApps.filter((a) => a.kind === 'store');
  const desktop = p.allowedApps.filter((a) => a.kind === 'desktop');
  const storeXml = p.appLockerXml.storeApps ?? (store.length > 0 ? ruleCollection('Appx', store) : null);
  const exeXml = p.appLockerXml.exe ?? (desktop.length > 0 ? ruleCollection('Exe', desktop) : null);
  if (storeXml) settings.push({ path: `${grouping}/StoreApps/Policy`, format: 'chr', value: storeXml });
  if (exeXml) settings.push({ path: `${grouping}/EXE/Policy`, format: 'chr', value: exeXml });
  return settings;
}
