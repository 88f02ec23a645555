/**
 * App protection without MDM (MAM) on the web listener, which never asks for a client certificate: a
 * MAM registration holds none (one-way TLS, Microsoft's MAM variation of MS-MDE2).
 *
 * - POST /EnrollmentServer/MAM/Enrollment.svc: the registration (SOAP; refusals are SOAP faults).
 * - POST /ManagementServer/MAM.svc: policy sync (SyncML), authenticated by `Authorization: Bearer <Entra
 *   user token>` and the SyncHdr Source DeviceID; refusals are a SyncHdr Status 401/403 with no
 *   commands, never a SOAP fault (protocol.md 9.3).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { MAM_PATHS, type MamRegistrationService } from '../core/enrollment/mam-registration.js';
import { SYNCML_CONTENT_TYPE, type SessionEngine } from '../core/management/session-engine.js';
import { SoapFault, encodeSoapFault } from '../protocol/soap/fault.js';
import { encodeSyncMl } from '../protocol/syncml/encode.js';

const SOAP_BODY_LIMIT = 64 * 1024;
const SYNCML_BODY_LIMIT = 1024 * 1024;
const SOAP_CONTENT_TYPE = 'application/soap+xml; charset=utf-8';

export interface MamRouteDeps {
  registration: MamRegistrationService;
  engine: SessionEngine;
  /** Absolute URL of the MAM sync endpoint (SyncHdr Source of refusals made before the engine runs). */
  syncUrl: () => string;
}

export async function mamRoutes(app: FastifyInstance, deps: MamRouteDeps): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: SYNCML_BODY_LIMIT }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    const status = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 413 : (err.statusCode ?? 500) < 500 ? 400 : 500;
    if (req.url.toLowerCase().startsWith(MAM_PATHS.sync.toLowerCase())) {
      req.log.warn({ err: err.message, code: err.code }, 'MAM sync request refused before the session engine');
      return sendSyncMl(
        reply,
        encodeSyncMl({
          sessionId: '0',
          msgId: 1,
          target: '',
          source: deps.syncUrl(),
          statuses: [{ cmdId: '1', msgRef: 1, cmdRef: '0', cmd: 'SyncHdr', data: status }],
          commands: [],
          final: true,
        }),
      );
    }
    const traceId = randomUUID();
    const fault = new SoapFault({
      subcode: status < 500 ? 'MessageFormat' : 'InternalServiceFault',
      message: status === 413 ? `The request is larger than ${SOAP_BODY_LIMIT} bytes.` : 'The request could not be processed.',
      detail: err.message,
    });
    req.log.warn({ traceId, subcode: fault.subcode, err: err.message }, 'MAM registration request refused before handling');
    return sendSoap(reply, encodeSoapFault({ fault, traceId }));
  });

  app.post(MAM_PATHS.enrollment, { bodyLimit: SOAP_BODY_LIMIT }, async (req, reply) => {
    const traceId = randomUUID();
    const result = await deps.registration.register(Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), traceId);
    if (result.fault) req.log.warn({ traceId, route: req.url, fault: result.fault }, 'MAM registration refused');
    else req.log.info({ traceId, route: req.url, ...result.info }, 'MAM registration answered');
    return sendSoap(reply, result.xml);
  });

  app.post(MAM_PATHS.sync, async (req, reply) => {
    const res = await deps.engine.handle({
      body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      clientCertificateDer: undefined,
      bearerToken: bearerOf(req.headers.authorization),
      appProtection: true,
    });
    const level = res.log.outcome === 'refused' || res.log.outcome === 'malformed' ? 'warn' : 'info';
    req.log[level]({ ...res.log, channel: 'mam' }, 'MAM policy sync message');
    return sendSyncMl(reply.code(res.status), res.body);
  });
}

/** The token of an `Authorization: Bearer` header (scheme case-insensitive); anything else is no token. Never logged. */
function bearerOf(header: string | undefined): string | undefined {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
}

function sendSoap(reply: FastifyReply, xml: string): FastifyReply {
  return reply.code(200).header('content-type', SOAP_CONTENT_TYPE).header('content-length', Buffer.byteLength(xml)).send(xml);
}

function sendSyncMl(reply: FastifyReply, body: string): FastifyReply {
  return reply.header('content-type', SYNCML_CONTENT_TYPE).header('content-length', Buffer.byteLength(body)).send(body);
}
