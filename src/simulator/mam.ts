/**
 * The simulator's app-protection (MAM) mode, as Windows runs it when a user adds a work account and the
 * directory's MAM scope covers them: register at the MAM enrollment URL with the directory token (no
 * discovery, no certificate request), read the w7 ADDR from the provisioning document, then sync over
 * one-way TLS with the token as `Authorization: Bearer` and no client certificate.
 */
import { randomUUID } from 'node:crypto';
import type https from 'node:https';
import { VALUE_TYPES, WSS } from '../protocol/soap/namespaces.js';
import { decodeMamProvisioningDoc, encodeMamRegistrationRequest } from '../protocol/wstep/mam.js';
import { decodeRequestSecurityTokenResponse } from '../protocol/wstep/response.js';
import type { SimulatedDevice } from './device.js';
import { soap } from './enroll.js';
import { type CheckInResult, type DeviceSideState, checkIn } from './manage.js';

export interface MamRegistered {
  /** The w7 ADDR: where policy syncs go. */
  syncUrl: string;
  providerId: string;
  /** Every w7 parm, as provisioned. */
  w7: Record<string, string>;
}

/** Registers the device for app protection; a refusal throws EnrollmentFailed (step `enroll`) with Windows' HRESULT. */
export async function registerForAppProtection(opts: {
  /** The MAM enrollment URL the directory hands Windows. */
  enrollmentUrl: string;
  directoryToken: string;
  device: SimulatedDevice;
  /** Trusts the server's TLS root; carries no client certificate (MAM has none). */
  agent: https.Agent;
  enrollmentType?: 'Full' | 'Device';
  /** The terms-of-use OpaqueBlob, when the user accepted the page (ContextItem EnrollmentData). */
  enrollmentData?: string;
}): Promise<MamRegistered> {
  const d = opts.device;
  const xml = encodeMamRegistrationRequest({
    messageId: `urn:uuid:${randomUUID()}`,
    to: opts.enrollmentUrl,
    security: {
      kind: 'binary',
      valueType: VALUE_TYPES.jwt,
      encodingType: WSS.base64Binary,
      value: Buffer.from(opts.directoryToken, 'utf8'),
    },
    context: [
      ['UXInitiated', 'true'],
      ['HWDevID', d.hwDevId],
      ['Locale', 'en-US'],
      ['TargetedUserLoggedIn', 'true'],
      ['OSEdition', String(d.osEdition)],
      ['DeviceName', d.deviceName],
      ['DeviceID', d.deviceId],
      ['EnrollmentType', opts.enrollmentType ?? 'Full'],
      ['DeviceType', 'CIMClient_Windows'],
      ['OSVersion', d.osVersion],
      ['ApplicationVersion', d.osVersion],
      ...(opts.enrollmentData ? ([['EnrollmentData', opts.enrollmentData]] as Array<[string, string]>) : []),
    ],
  });
  const docXml = await soap('enroll', opts.enrollmentUrl, xml, opts.agent, decodeRequestSecurityTokenResponse);
  const w7 = decodeMamProvisioningDoc(docXml);
  return { syncUrl: w7.ADDR ?? '', providerId: w7['PROVIDER-ID'] ?? '', w7 };
}

/** One MAM policy sync: the bearer token on every message, no client certificate. */
export function mamSync(opts: {
  syncUrl: string;
  state: DeviceSideState;
  agent: https.Agent;
  /** The Entra user token; omitted to see what a sync without one gets. */
  bearerToken: string | undefined;
  sessionId?: string;
}): Promise<CheckInResult> {
  return checkIn({
    managementUrl: opts.syncUrl,
    state: opts.state,
    agent: opts.agent,
    sessionId: opts.sessionId ?? String(Math.floor(Math.random() * 1000) + 1),
    loginStatus: 'user',
    ...(opts.bearerToken ? { userToken: { jwt: opts.bearerToken, send: 'bearer' as const } } : {}),
  });
}
