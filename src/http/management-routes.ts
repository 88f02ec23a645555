/**
 * The OMA-DM endpoint on the management listener (the w7 ADDR). Windows posts SyncML with
 * `?mode=Maintenance&Platform=WoA`; every answer is SyncML with Content-Length, never a SOAP fault
 * (protocol.md 9.3), including for requests refused before the session engine sees them.
 */
import type { FastifyInstance } from 'fastify';
import { PATHS } from '../core/enrollment/endpoints.js';
import { SYNCML_CONTENT_TYPE, type SessionEngine } from '../core/management/session-engine.js';
import { encodeSyncMl } from '../protocol/syncml/encode.js';
import { type ClientIdentityOptions, clientIdentity } from './client-identity.js';

/** Windows keeps messages small (64 KB by default here); 1 MiB leaves room for large Results. */
export const SYNCML_BODY_LIMIT = 1024 * 1024;

export async function managementRoutes(
  app: FastifyInstance,
  deps: { engine: SessionEngine; identity: ClientIdentityOptions; managementUrl: () => string },
): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: SYNCML_BODY_LIMIT }, (_req, body, done) => done(null, body));

  const refusal = (status: number) =>
    encodeSyncMl({
      sessionId: '0',
      msgId: 1,
      target: '',
      source: deps.managementUrl(),
      statuses: [{ cmdId: '1', msgRef: 1, cmdRef: '0', cmd: 'SyncHdr', data: status }],
      commands: [],
      final: true,
    });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
    req.log.warn({ err: err.message, code: err.code }, 'management request refused before the session engine');
    const body = refusal(err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? 413 : (err.statusCode ?? 500) < 500 ? 400 : 500);
    return reply.code(200).header('content-type', SYNCML_CONTENT_TYPE).header('content-length', Buffer.byteLength(body)).send(body);
  });

  app.post(PATHS.management, async (req, reply) => {
    const identity = clientIdentity(req.raw, deps.identity);
    const res = await deps.engine.handle({
      body: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0),
      clientCertificateDer: identity.certificateDer,
      identityNote: identity.via === 'none' ? identity.reason : undefined,
      bearerToken: bearerOf(req.headers.authorization),
    });
    const level = res.log.outcome === 'refused' || res.log.outcome === 'malformed' ? 'warn' : 'info';
    req.log[level]({ ...res.log, certificateVia: identity.via }, 'management session message');
    return reply
      .code(res.status)
      .header('content-type', res.contentType)
      .header('content-length', Buffer.byteLength(res.body))
      .send(res.body);
  });
}

/** The token of an `Authorization: Bearer` header (scheme case-insensitive); anything else is no token. */
function bearerOf(header: string | undefined): string | undefined {
  const m = header ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  return m?.[1];
}
