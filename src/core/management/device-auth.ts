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
import type { DirectoryTokenResult } from '../entra/directory-token.js';
import type { DeviceInventory, DeviceStateStore, MamRegistrationStore, Ownership } from './ports.js';

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

/**
 * App-protection (MAM) sessions: no certificate exists, so the device is identified by the Entra user token
 * it sends as `Authorization: Bearer`, which must name the user the device is registered to.
 */
export interface BearerIdentityDeps {
  store: Pick<MamRegistrationStore, 'findMamRegistration'>;
  tokens: { verify(jwt: string): Promise<DirectoryTokenResult> };
}

/** Entra access tokens are a few KB; anything far larger is not one and is not worth verifying. */
const MAX_BEARER_CHARS = 16 * 1024;

export class DeviceAuthenticator {
  readonly #ca: X509Certificate;
  readonly #store: Pick<DeviceStateStore, 'findByCertificate'>;
  readonly #clock: Clock;
  readonly #bearer: BearerIdentityDeps | undefined;
  readonly #checked = new Map<string, ChainCheck>();

  constructor(deps: { caCertPem: string; store: Pick<DeviceStateStore, 'findByCertificate'>; clock: Clock; bearer?: BearerIdentityDeps }) {
    this.#ca = new X509Certificate(deps.caCertPem);
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#bearer = deps.bearer;
  }

  /**
   * The bearer-token identity path (MAM policy sync over one-way TLS): a valid directory token (connected
   * tenant, signature, audience, expiry, enabled user) whose user holds the active MAM registration of the
   * DeviceID in SyncHdr/Source. 401 for a missing or refused token, 403 for a device that is not that
   * user's registration. The token is never logged; reasons carry at most its tenant and UPN.
   */
  async authenticateBearer(bearerToken: string | undefined, claimedDeviceId: string): Promise<DeviceAuthResult> {
    if (!this.#bearer) return { ok: false, status: 401, reason: 'app-protection (MAM) sessions are not served: no directory is connected' };
    const jwt = bearerToken?.trim();
    if (!jwt)
      return { ok: false, status: 401, reason: 'no Authorization: Bearer token (MAM sessions authenticate with the Entra user token)' };
    if (jwt.length > MAX_BEARER_CHARS) return { ok: false, status: 401, reason: 'bearer token is too large to be a directory token' };
    const check = await this.#bearer.tokens.verify(jwt);
    if (!check.ok) return { ok: false, status: 401, reason: `bearer token refused (${check.reason}): ${check.detail}` };
    const found = await this.#bearer.store.findMamRegistration(claimedDeviceId.replace(/[{}]/g, ''));
    if (!found)
      return { ok: false, status: 403, reason: `device ${claimedDeviceId.slice(0, 64)} has no active app-protection registration` };
    if (found.registration.userId !== check.user.id) {
      return { ok: false, status: 403, reason: `device ${found.device.deviceId} is registered to another user than ${check.upn}` };
    }
    return {
      ok: true,
      device: found.device,
      enrollment: found.enrollment,
      ownership: found.ownership,
      retiredAt: found.retiredAt,
      inventory: found.inventory,
      thumbprint: '',
    };
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
