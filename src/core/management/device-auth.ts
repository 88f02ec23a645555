/**
 * Who may open a management session (protocol.md 6.2): a client certificate that our enrollment CA
 * issued, inside its validity, belonging to the device's active enrollment, for the DeviceID named in
 * SyncHdr/Source. Anything else gets no commands. Chain checks are cached per certificate so a check-in
 * costs one lookup, not one RSA verification.
 */
import { X509Certificate } from 'node:crypto';
import { sha1Thumbprint } from '../../pki/thumbprint.js';
import type { Clock } from '../../shared/clock.js';
import type { DeviceRecord, EnrollmentRecord } from '../ports.js';
import type { DeviceInventory, DeviceStateStore, Ownership } from './ports.js';

export type DeviceAuthResult =
  | {
      ok: true;
      device: DeviceRecord;
      enrollment: EnrollmentRecord;
      ownership: Ownership;
      retiredAt: Date | null;
      inventory: DeviceInventory | null;
      thumbprint: string;
    }
  | { ok: false; status: 401 | 403; reason: string };

/**
 * A certificate we issued and the enrollment it was issued for, whatever that enrollment's status and
 * whatever the time: the facts the callers' rules (sessions here, renewal in the enrollment service) start from.
 */
export type CertificateIdentity =
  | {
      ok: true;
      thumbprint: string;
      notBefore: Date;
      notAfter: Date;
      device: DeviceRecord;
      enrollment: EnrollmentRecord;
      ownership: Ownership;
      retiredAt: Date | null;
    }
  | { ok: false; status: 401 | 403; reason: string };

interface ChainCheck {
  issuedByUs: boolean;
  notBefore: number;
  notAfter: number;
}

const CACHE_MAX = 50_000;

export class DeviceAuthenticator {
  readonly #ca: X509Certificate;
  readonly #store: Pick<DeviceStateStore, 'findByCertificate'>;
  readonly #clock: Clock;
  readonly #checked = new Map<string, ChainCheck>();

  constructor(deps: { caCertPem: string; store: Pick<DeviceStateStore, 'findByCertificate'>; clock: Clock }) {
    this.#ca = new X509Certificate(deps.caCertPem);
    this.#store = deps.store;
    this.#clock = deps.clock;
  }

  async authenticate(certificateDer: Buffer | undefined, claimedDeviceId: string): Promise<DeviceAuthResult> {
    const chain = this.#issuedByUs(certificateDer);
    if (!chain.ok) return chain;
    const now = this.#clock.now().getTime();
    if (now < chain.check.notBefore || now > chain.check.notAfter)
      return { ok: false, status: 401, reason: 'client certificate is expired or not yet valid' };
    const found = await this.#store.findByCertificate(chain.thumbprint);
    if (!found) return { ok: false, status: 403, reason: 'client certificate belongs to no enrollment (device deleted?)' };
    if (found.enrollment.status !== 'active')
      return { ok: false, status: 403, reason: `certificate of a ${found.enrollment.status} enrollment` };
    if (found.device.deviceId.toUpperCase() !== claimedDeviceId.replace(/[{}]/g, '').toUpperCase()) {
      return {
        ok: false,
        status: 403,
        reason: `certificate of device ${found.device.deviceId} presented for ${claimedDeviceId.slice(0, 64)}`,
      };
    }
    return {
      ok: true,
      device: found.device,
      enrollment: found.enrollment,
      ownership: found.ownership,
      retiredAt: found.retiredAt,
      inventory: found.inventory,
      thumbprint: chain.thumbprint,
    };
  }

  /**
   * The same chain check and lookup as `authenticate`, without its session rules (validity now, active
   * enrollment, claimed DeviceID): certificate renewal applies its own.
   */
  async identify(certificateDer: Buffer | undefined): Promise<CertificateIdentity> {
    const chain = this.#issuedByUs(certificateDer);
    if (!chain.ok) return chain;
    const found = await this.#store.findByCertificate(chain.thumbprint);
    if (!found) return { ok: false, status: 403, reason: 'client certificate belongs to no enrollment (device deleted?)' };
    return {
      ok: true,
      thumbprint: chain.thumbprint,
      notBefore: new Date(chain.check.notBefore),
      notAfter: new Date(chain.check.notAfter),
      ...found,
    };
  }

  #issuedByUs(
    certificateDer: Buffer | undefined,
  ): { ok: true; thumbprint: string; check: ChainCheck } | { ok: false; status: 401; reason: string } {
    if (!certificateDer) return { ok: false, status: 401, reason: 'no client certificate' };
    const thumbprint = sha1Thumbprint(certificateDer);
    const check = this.#chain(thumbprint, certificateDer);
    if (!check) return { ok: false, status: 401, reason: 'client certificate is not readable' };
    if (!check.issuedByUs) return { ok: false, status: 401, reason: 'client certificate was not issued by this server' };
    return { ok: true, thumbprint, check };
  }

  #chain(thumbprint: string, der: Buffer): ChainCheck | undefined {
    const hit = this.#checked.get(thumbprint);
    if (hit) return hit;
    let cert: X509Certificate;
    try {
      cert = new X509Certificate(der);
    } catch {
      return undefined;
    }
    const check: ChainCheck = {
      issuedByUs: cert.checkIssued(this.#ca) && cert.verify(this.#ca.publicKey),
      notBefore: Date.parse(cert.validFrom),
      notAfter: Date.parse(cert.validTo),
    };
    if (this.#checked.size >= CACHE_MAX) this.#checked.clear();
    this.#checked.set(thumbprint, check);
    return check;
  }
}
