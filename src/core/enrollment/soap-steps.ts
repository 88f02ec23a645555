/**
 * Steps the MDM enrollment endpoints (enrollment-service.ts) and the MAM registration endpoint
 * (mam-registration.ts) share, so a device gets the same fault for the same problem at either: the SOAP
 * answer frame, the directory-token check, the terms-of-use blob check and the context items both read.
 */
import { decodeSoapEnvelope } from '../../protocol/soap/envelope.js';
import { SoapFault, encodeSoapFault } from '../../protocol/soap/fault.js';
import type { ContextItems } from '../../protocol/wstep/context-items.js';
import { encodeRequestSecurityTokenResponse } from '../../protocol/wstep/response.js';
import { XmlError } from '../../protocol/xml/errors.js';
import { parseXml } from '../../protocol/xml/reader.js';
import { WinrollError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';
import type { DirectoryTokenResult, DirectoryTokens } from '../entra/directory-token.js';
import type { EnrollmentType } from '../ports.js';
import type { TermsOfUse } from './terms-of-use.js';

export interface SoapResult {
  xml: string;
  /** Set when the answer is a fault, for the transport's log line. */
  fault?: { subcode: string; errorType?: string | undefined; message: string; detail?: string | undefined };
  /** Facts worth logging on success. */
  info?: Record<string, unknown>;
}

/** What the endpoint is doing, in the account's words: "enroll" (MDM) or "register" (MAM). */
export type Verb = 'enroll' | 'register';

/**
 * Runs one endpoint: parse, handle, and turn every refusal into the fault Windows parses. `onFault`
 * records the attempt; a failure to record is logged, never answered.
 */
export async function answerSoap(opts: {
  action: string;
  traceId: string;
  body: Buffer;
  logger: Logger;
  /** The log line for an unexpected error (not a SoapFault, not bad XML). */
  failure: string;
  handle: (envelope: ReturnType<typeof decodeSoapEnvelope>) => Promise<Omit<SoapResult, 'fault'>>;
  toFault?: ((err: unknown) => SoapFault) | undefined;
  onFault?: ((fault: SoapFault) => Promise<unknown>) | undefined;
}): Promise<SoapResult> {
  const { traceId, logger } = opts;
  let relatesTo: string | undefined;
  try {
    const envelope = decodeSoapEnvelope(parseXml(opts.body));
    relatesTo = envelope.messageId;
    return await opts.handle(envelope);
  } catch (err) {
    const fault = (opts.toFault ?? toSoapFault)(err);
    if (!(err instanceof SoapFault) && !(err instanceof XmlError)) logger.error({ err, traceId }, opts.failure);
    if (opts.onFault) {
      await opts.onFault(fault).catch((e: unknown) => logger.error({ err: e, traceId }, 'could not record the enrollment attempt'));
    }
    return {
      xml: encodeSoapFault({ fault, action: opts.action, ...(relatesTo ? { relatesTo } : {}), traceId }),
      fault: { subcode: fault.subcode, errorType: fault.errorType, message: fault.message, detail: fault.detail },
    };
  }
}

/** The RequestSecurityTokenResponse that hands the device its provisioning document, valid for five minutes. */
export function provisioningResponse(relatesTo: string, traceId: string, doc: string, now: Date): string {
  return encodeRequestSecurityTokenResponse({
    relatesTo,
    activityId: traceId,
    provisioningDocXml: doc,
    created: now,
    expires: new Date(now.getTime() + 5 * 60_000),
  });
}

/** The fault for an error no step turned into one: bad XML, storage down, or a bug. */
export function toSoapFault(err: unknown): SoapFault {
  if (err instanceof SoapFault) return err;
  if (err instanceof XmlError)
    return new SoapFault({ subcode: 'MessageFormat', message: 'The request is not well-formed XML.', detail: err.message });
  if (err instanceof WinrollError && err.code === 'storage_unavailable') {
    return new SoapFault({
      subcode: 'EnrollmentServer',
      message: 'The enrollment server is temporarily unavailable. Try again later.',
      detail: err.message,
    });
  }
  return new SoapFault({
    subcode: 'InternalServiceFault',
    message: 'The enrollment server hit an unexpected error.',
    detail: err instanceof Error ? err.message : String(err),
  });
}

/**
 * Checks an Entra token (the JWT bytes of a WS-Security BinarySecurityToken). `identified` learns the UPN
 * it names before it is known to be good, for the attempt log. The JWT is never logged.
 */
export async function verifyDirectoryToken(
  tokens: DirectoryTokens | undefined,
  jwt: Buffer,
  verb: Verb,
  identified?: (upn: string) => void,
): Promise<Extract<DirectoryTokenResult, { ok: true }>> {
  if (!tokens) {
    throw new SoapFault({
      subcode: 'Authentication',
      message: 'This server does not accept directory (Entra ID) sign-ins.',
      detail: 'directory token, but no directory tenant support is configured',
    });
  }
  const check = await tokens.verify(jwt.toString('utf8').trim());
  if (check.upn) identified?.(check.upn);
  if (!check.ok) throw directoryTokenFault(check, verb);
  return check;
}

/** The faults a refused directory token gets. */
export function directoryTokenFault(check: Extract<DirectoryTokenResult, { ok: false }>, verb: Verb): SoapFault {
  if (check.reason === 'keys_unavailable') {
    // Our side failed (the tenant's key URL did not answer): say so, and let Windows retry later.
    return new SoapFault({
      subcode: 'EnrollmentServer',
      message: "The device management server could not reach your organisation's directory to check the sign-in. Try again later.",
      detail: check.detail,
    });
  }
  return new SoapFault({
    subcode: 'Authentication',
    message:
      check.reason === 'identity_mismatch'
        ? 'Your directory account does not match the account this server knows by that name. Contact your IT department.'
        : check.reason === 'unknown_tenant'
          ? `Your organisation's directory (tenant ${check.tenantId ?? 'unknown'}) is not connected to this device management server.`
          : check.reason === 'expired'
            ? 'Your sign-in has expired. Sign in again.'
            : check.reason === 'unknown_user' || check.reason === 'disabled'
              ? `Your account is not allowed to ${verb} devices in this organisation.`
              : 'The directory sign-in token is not valid.',
    detail: check.detail,
  });
}

/**
 * Checks the terms-of-use OpaqueBlob Windows sends back as the ContextItem EnrollmentData; returns the
 * accepted terms version. `noun` names the request in the refusal ("enrollment", "registration").
 */
export async function verifyTermsBlob(
  termsOfUse: Pick<TermsOfUse, 'verifyBlob'>,
  enrollmentData: string,
  who: { userId: string; upn: string; tenantId: string },
  noun: 'enrollment' | 'registration',
): Promise<number | null> {
  const blob = await termsOfUse.verifyBlob(enrollmentData, who);
  if (!blob.ok) {
    throw new SoapFault({
      subcode: 'Authorization',
      errorType: 'InvalidEnrollmentData',
      message:
        blob.reason === 'expired'
          ? 'The terms of use were accepted too long ago. Start again to accept them once more.'
          : `The terms-of-use acceptance sent with this ${noun} is not valid for this account. Start again.`,
      detail: `EnrollmentData (terms-of-use blob) refused: ${blob.reason}`,
    });
  }
  return blob.termsVersion;
}

const DEVICE_ID = /^(?:[0-9A-Fa-f]{32}|\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?)$/;
const HW_DEV_ID = /^[0-9A-Fa-f]{16,128}$/;

/** The DeviceID context item, braces dropped and upper-cased; a fault when missing or malformed. */
export function deviceIdOf(ctx: ContextItems): string {
  const raw = ctx.get('DeviceID');
  if (!raw || !DEVICE_ID.test(raw)) {
    throw new SoapFault({ subcode: 'MessageFormat', message: 'The DeviceID context item is missing or malformed.' });
  }
  return raw.replace(/[{}]/g, '').toUpperCase();
}

/** The HWDevID context item upper-cased; null when missing or malformed (it only helps match devices). */
export function hwDevIdOf(ctx: ContextItems): string | null {
  const raw = ctx.get('HWDevID');
  return raw && HW_DEV_ID.test(raw) ? raw.toUpperCase() : null;
}

/** The EnrollmentType context item; Full when absent. */
export function enrollmentTypeOf(ctx: ContextItems): EnrollmentType {
  const raw = ctx.get('EnrollmentType');
  if (raw === undefined) return 'Full';
  const v = raw.trim().toLowerCase();
  if (v === 'full') return 'Full';
  if (v === 'device') return 'Device';
  throw new SoapFault({ subcode: 'MessageFormat', message: `Unknown EnrollmentType "${raw.slice(0, 32)}".` });
}

/** A free-text context item cut to `max` characters; null when absent or empty. */
export function clip(v: string | undefined, max: number): string | null {
  return v === undefined || v === '' ? null : v.slice(0, max);
}
