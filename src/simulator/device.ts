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
  /**
   * What the PC reports through the DeviceStatus and Defender CSPs and DMClient's AADDeviceID. Mutable so a
   * test can turn the firewall off between sessions. Undefined fields are nodes the PC does not have (404).
   */
  security: SimulatedSecurityState;
  privateKey: KeyObject;
  publicKey: KeyObject;
}

export interface SimulatedSecurityState {
  /** DeviceStatus/Compliance/EncryptionCompliance: 1 BitLocker on the OS drive, 0 not. */
  encryptionCompliance?: number;
  /** DeviceStatus/Firewall/Status: 0 on, 1 off, 2 partly, 3 temporarily off, 4 not applicable. */
  firewallStatus?: number;
  /** DeviceStatus/Antivirus/Status (same codes as the firewall). */
  antivirusStatus?: number;
  /** DeviceStatus/Antivirus/SignatureStatus: 1 up to date, 0 out of date, 2 not applicable. */
  antivirusSignatureStatus?: number;
  antispywareStatus?: number;
  antispywareSignatureStatus?: number;
  tpmVersion?: string;
  /** Defender/Health/RtpEnabled. */
  realTimeProtection?: boolean;
  /** DMClient/Provider/<ProviderID>/AADDeviceID: only PCs joined to or registered in Entra ID have one. */
  entraDeviceId?: string;
}

/** A healthy Windows 11 PC with BitLocker, the firewall and Defender on, and no Entra device id. */
export function healthySecurityState(): SimulatedSecurityState {
  return {
    encryptionCompliance: 1,
    firewallStatus: 0,
    antivirusStatus: 0,
    antivirusSignatureStatus: 1,
    antispywareStatus: 0,
    antispywareSignatureStatus: 1,
    tpmVersion: '2.0, 0, 1.59',
    realTimeProtection: true,
  };
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
    security: healthySecurityState(),
    ...overrides,
    ...keys,
  };
}
