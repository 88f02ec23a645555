/**
 * Hardware and OS inventory read over OMA-DM (DevInfo and DevDetail CSPs): the nodes we Get on first
 * contact and then daily, and how their Results map onto the device record.
 */
import type { DeviceInventory } from './ports.js';

export const INVENTORY_REFRESH_MS = 24 * 3600_000;

/** LocURI → inventory field. */
export const INVENTORY_NODES: ReadonlyArray<{ locUri: string; field: keyof Omit<DeviceInventory, 'collectedAt'> }> = [
  { locUri: './DevDetail/SwV', field: 'osVersion' },
  { locUri: './DevDetail/Ext/Microsoft/OSPlatform', field: 'osEdition' },
  { locUri: './DevInfo/Man', field: 'manufacturer' },
  { locUri: './DevInfo/Mod', field: 'model' },
  { locUri: './DevDetail/Ext/Microsoft/SMBIOSSerialNumber', field: 'serialNumber' },
  { locUri: './Vendor/MSFT/DMClient/HWDevID', field: 'hardwareId' },
  { locUri: './DevDetail/Ext/Microsoft/DeviceName', field: 'deviceName' },
  { locUri: './DevInfo/Lang', field: 'language' },
  { locUri: './DevDetail/Ext/Microsoft/TotalStorage', field: 'totalStorageMb' },
];

const BY_URI = new Map(INVENTORY_NODES.map((n) => [n.locUri.toLowerCase(), n.field]));

/** Package 1 carries DevInfo as Replace items; these map the same way. */
const DEVINFO_REPLACE: Record<string, keyof Omit<DeviceInventory, 'collectedAt'>> = {
  './devinfo/man': 'manufacturer',
  './devinfo/mod': 'model',
  './devinfo/lang': 'language',
  './devinfo/dmv': 'dmVersion',
};

/** Inventory fields from item values (Results of our Gets, or the DevInfo Replace of package 1). */
export function inventoryFromItems(items: Array<{ locUri: string; data: string | undefined }>): Partial<DeviceInventory> {
  const out: Partial<Record<keyof DeviceInventory, string | number>> = {};
  for (const { locUri, data } of items) {
    if (data === undefined) continue;
    const key = locUri.toLowerCase();
    const field = BY_URI.get(key) ?? DEVINFO_REPLACE[key];
    if (!field) continue;
    const value = data.trim().slice(0, 256);
    if (field === 'totalStorageMb' || field === 'freeStorageMb') {
      const n = Number(value);
      if (Number.isFinite(n) && n >= 0) out[field] = n;
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
