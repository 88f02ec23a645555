/**
 * Hardware and OS inventory read over OMA-DM (DevInfo and DevDetail CSPs): the nodes we Get on first
 * contact and then daily, and how their Results map onto the device record.
 */
import { PROVIDER_ID } from '../enrollment/enrollment-service.js';
import type { DeviceInventory } from './ports.js';

/**
 * Inventory, security state included, is read again at the first session after this long: compliance
 * (core/compliance) needs the firewall, antivirus and encryption state about as fresh as Windows' regular
 * 8-hour check-in, and the Gets are small.
 */
export const INVENTORY_REFRESH_MS = 8 * 3600_000;

type InventoryField = keyof Omit<DeviceInventory, 'collectedAt'>;

/** LocURI → inventory field. */
export const INVENTORY_NODES: ReadonlyArray<{ locUri: string; field: InventoryField }> = [
  { locUri: './DevDetail/SwV', field: 'osVersion' },
  { locUri: './DevDetail/Ext/Microsoft/OSPlatform', field: 'osEdition' },
  { locUri: './DevInfo/Man', field: 'manufacturer' },
  { locUri: './DevInfo/Mod', field: 'model' },
  { locUri: './DevDetail/Ext/Microsoft/SMBIOSSerialNumber', field: 'serialNumber' },
  { locUri: './Vendor/MSFT/DMClient/HWDevID', field: 'hardwareId' },
  { locUri: './DevDetail/Ext/Microsoft/DeviceName', field: 'deviceName' },
  { locUri: './DevInfo/Lang', field: 'language' },
  { locUri: './DevDetail/Ext/Microsoft/TotalStorage', field: 'totalStorageMb' },
  // Security state for compliance (DeviceStatus CSP, Windows 10 1607+). Codes: EncryptionCompliance 1
  // encrypted / 0 not; Firewall and Antivirus Status 0 on, 1 off, 2 partly, 3 temporarily off, 4 n/a;
  // Antispyware Status 0 good, 1 not monitored, 2 poor, 3 snoozed; SignatureStatus 1 current, 0 stale, 2 n/a.
  { locUri: './Vendor/MSFT/DeviceStatus/Compliance/EncryptionCompliance', field: 'encryptionCompliance' },
  { locUri: './Vendor/MSFT/DeviceStatus/Firewall/Status', field: 'firewallStatus' },
  { locUri: './Vendor/MSFT/DeviceStatus/Antivirus/Status', field: 'antivirusStatus' },
  { locUri: './Vendor/MSFT/DeviceStatus/Antivirus/SignatureStatus', field: 'antivirusSignatureStatus' },
  { locUri: './Vendor/MSFT/DeviceStatus/Antispyware/Status', field: 'antispywareStatus' },
  { locUri: './Vendor/MSFT/DeviceStatus/Antispyware/SignatureStatus', field: 'antispywareSignatureStatus' },
  { locUri: './Vendor/MSFT/DeviceStatus/TPM/SpecificationVersion', field: 'tpmVersion' },
  // Defender CSP: real-time protection ("true"/"false").
  { locUri: './Vendor/MSFT/Defender/Health/RtpEnabled', field: 'realTimeProtection' },
  // The Entra device id, for the directory write-back and duplicate detection; 404 on devices not in Entra.
  { locUri: `./Vendor/MSFT/DMClient/Provider/${PROVIDER_ID}/AADDeviceID`, field: 'entraDeviceId' },
];

const NUMERIC = new Set<InventoryField>([
  'totalStorageMb',
  'freeStorageMb',
  'encryptionCompliance',
  'firewallStatus',
  'antivirusStatus',
  'antivirusSignatureStatus',
  'antispywareStatus',
  'antispywareSignatureStatus',
]);

const BY_URI = new Map(INVENTORY_NODES.map((n) => [n.locUri.toLowerCase(), n.field]));

/** Package 1 carries DevInfo as Replace items; these map the same way. */
const DEVINFO_REPLACE: Record<string, InventoryField> = {
  './devinfo/man': 'manufacturer',
  './devinfo/mod': 'model',
  './devinfo/lang': 'language',
  './devinfo/dmv': 'dmVersion',
};

/** Inventory fields from item values (Results of our Gets, or the DevInfo Replace of package 1). */
export function inventoryFromItems(items: Array<{ locUri: string; data: string | undefined }>): Partial<DeviceInventory> {
  const out: Partial<Record<keyof DeviceInventory, string | number | boolean>> = {};
  for (const { locUri, data } of items) {
    if (data === undefined) continue;
    const key = locUri.toLowerCase();
    const field = BY_URI.get(key) ?? DEVINFO_REPLACE[key];
    if (!field) continue;
    const value = data.trim().slice(0, 256);
    if (NUMERIC.has(field)) {
      const n = Number(value);
      if (value !== '' && Number.isFinite(n) && n >= 0) out[field] = n;
    } else if (field === 'realTimeProtection') {
      const v = value.toLowerCase();
      if (v === 'true' || v === '1') out[field] = true;
      else if (v === 'false' || v === '0') out[field] = false;
    } else if (value) {
      out[field] = value;
    }
  }
  return out as Partial<DeviceInventory>;
}

/** Package 1's DevInfo alone is not an inventory: the OS version only comes from our Gets. */
export function inventoryIsStale(inv: DeviceInventory | null, now: Date): boolean {
  if (!inv || inv.osVersion === undefined) return true;
  const at = Date.parse(inv.collectedAt);
  return !Number.isFinite(at) || now.getTime() - at >= INVENTORY_REFRESH_MS;
}
