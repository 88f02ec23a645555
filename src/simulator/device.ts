/** A simulated Windows PC: the identifiers and key pair a real enrollment client would have. */
import { type KeyObject, generateKeyPairSync, randomBytes, randomUUID } from 'node:crypto';

export interface SimulatedDevice {
  /** 32 upper-case hex characters, like Windows' enrollment-client DeviceID. */
  deviceId: string;
  /** 64 upper-case hex characters, stable per hardware and OS install. */
  hwDevId: string;
  deviceName: string;
  osVersion: string;
  /** Decimal SKU: 48 Professional, 72 Enterprise Evaluation, 101 Home. */
  osEdition: number;
  macAddresses: string[];
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export function generateDeviceKey(bits = 2048): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('rsa', { modulusLength: bits });
}

export function newSimulatedDevice(overrides: Partial<SimulatedDevice> = {}): SimulatedDevice {
  const keys =
    overrides.privateKey && overrides.publicKey
      ? { privateKey: overrides.privateKey, publicKey: overrides.publicKey }
      : generateDeviceKey();
  const mac = () =>
    [...randomBytes(6)]
      .map((b) => b.toString(16).padStart(2, '0'))
      .join('-')
      .toUpperCase();
  return {
    deviceId: randomBytes(16).toString('hex').toUpperCase(),
    hwDevId: randomBytes(32).toString('hex').toUpperCase(),
    deviceName: `DESKTOP-${randomUUID().slice(0, 7).toUpperCase()}`,
    osVersion: '10.0.26100.4061',
    osEdition: 48,
    macAddresses: [mac(), mac()],
    ...overrides,
    ...keys,
  };
}
