/**
 * RFC 9457 problem details: every error the API returns is `application/problem+json` with type,
 * title, status, detail, a machine-readable `code` and the request's `traceId`. One mapping, here, from
 * WinrollError codes, zod validation errors and fastify's own request errors. Unknown errors become a
 * 500 whose detail names only the trace id; the error itself goes to the log, never to the client.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import { WinrollError, type WinrollErrorCode } from '../../shared/errors.js';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  traceId: string;
  /** Validation failures: which field and why. */
  errors?: Array<{ path: string; message: string }>;
}

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** HTTP status of each domain error code. invalid_input is 422: well-formed, but refused by a rule. */
export const STATUS_OF_CODE: Record<WinrollErrorCode, number> = {
  not_found: 404,
  conflict: 409,
  invalid_input: 422,
  unauthenticated: 401,
  forbidden: 403,
  storage_unavailable: 503,
  internal: 500,
};

export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly headers: Record<string, string>;
  readonly errors: Problem['errors'];
  constructor(status: number, code: string, detail: string, opts: { headers?: Record<string, string>; errors?: Problem['errors'] } = {}) {
    super(detail);
    this.name = 'ApiProblem';
    this.status = status;
    this.code = code;
    this.headers = opts.headers ?? {};
    this.errors = opts.errors;
  }
}

export function problemType(code: string): string {
  return `urn:winroll:problem:${code}`;
}

function zodPath(path: ReadonlyArray<PropertyKey>, where: string): string {
  return [where, ...path.map(String)].filter(Boolean).join('.');
}

/** A zod failure as a 400 naming each offending field (`body.settings.0.path`). */
export function validationProblem(err: ZodError, where: 'body' | 'query' | 'params'): ApiProblem {
  const errors = err.issues.slice(0, 20).map((i) => ({ path: zodPath(i.path, where), message: i.message }));
  const first = errors[0];
  return new ApiProblem(400, 'invalid_request', first ? `${first.path}: ${first.message}` : `the request ${where} is invalid`, { errors });
}

function toProblem(err: unknown, req: FastifyRequest): ApiProblem {
  if (err instanceof ApiProblem) return err;
  if (err instanceof ZodError) return validationProblem(err, 'body');
  if (err instanceof WinrollError) {
    const status = STATUS_OF_CODE[err.code] ?? 500;
    if (status >= 500) {
      req.log.error({ code: err.code, err: err.message }, 'admin API request failed');
      const detail =
        err.code === 'storage_unavailable' ? 'The database is unavailable; try again shortly.' : 'An unexpected error occurred.';
      return new ApiProblem(status, err.code, detail, status === 503 ? { headers: { 'retry-after': '5' } } : {});
    }
    return new ApiProblem(status, err.code, err.message);
  }
  // fastify's own request errors (bad JSON, body too large, unknown content type) are safe to describe.
  const e = err as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const code =
      e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
        ? 'unsupported_media_type'
        : e.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? 'too_large'
          : 'invalid_request';
    return new ApiProblem(e.statusCode, code, typeof e.message === 'string' ? e.message.slice(0, 300) : 'the request is invalid');
  }
  req.log.error({ err }, 'admin API request failed unexpectedly');
  return new ApiProblem(500, 'internal', 'An unexpected error occurred.');
}

export function sendProblem(reply: FastifyReply, req: FastifyRequest, err: unknown, traceId: string): FastifyReply {
  const p = toProblem(err, req);
  const body: Problem = {
    type: problemType(p.code),
    title: TITLES[p.status] ?? 'Error',
    status: p.status,
    detail: p.status >= 500 ? `${p.message} (trace id ${traceId})` : p.message,
    code: p.code,
    traceId,
    ...(p.errors ? { errors: p.errors } : {}),
  };
  for (const [k, v] of Object.entries(p.headers)) reply.header(k, v);
  return reply.code(p.status).header('content-type', PROBLEM_CONTENT_TYPE).send(JSON.stringify(body));
}
