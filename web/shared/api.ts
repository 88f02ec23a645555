/**
 * The browser's only way to the server: fetch against /api/v1 on the same origin, with the session cookie,
 * the X-CSRF-Token header on changes, and problem+json errors turned into an ApiError whose message is the
 * server's own explanation (what an admin should read), never a bare status code.
 */

export const API_BASE = '/api/v1';

export interface ProblemField {
  path: string;
  message: string;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly traceId: string | undefined;
  readonly fields: ProblemField[];
  constructor(status: number, code: string, message: string, traceId: string | undefined, fields: ProblemField[]) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.traceId = traceId;
    this.fields = fields;
  }
}

let csrfToken: string | null = null;

/** Remembered from POST/GET /session; sent as X-CSRF-Token on POST, PUT, PATCH and DELETE. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

type Query = Record<string, string | number | boolean | undefined | null>;

export function withQuery(path: string, query?: Query): string {
  if (!query) return path;
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

async function toError(res: Response): Promise<ApiError> {
  let body: Record<string, unknown> = {};
  try {
    body = (await res.json()) as Record<string, unknown>;
  } catch {
    // not JSON: fall back to the status line
  }
  const detail = typeof body.detail === 'string' ? body.detail : typeof body.title === 'string' ? body.title : res.statusText;
  const code = typeof body.code === 'string' ? body.code : typeof body.type === 'string' ? body.type : String(res.status);
  const traceId = typeof body.traceId === 'string' ? body.traceId : (res.headers.get('x-trace-id') ?? undefined);
  const fields = Array.isArray(body.errors) ? (body.errors as ProblemField[]) : [];
  const message = detail || `the server answered ${res.status}`;
  return new ApiError(res.status, code, message, traceId, fields);
}

/** One request against `base` (the admin API or the portal's), CSRF token on changes, problems as ApiError. */
async function send<T>(base: string, token: string | null, method: string, path: string, body?: unknown, query?: Query): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && token) headers['x-csrf-token'] = token;
  let res: Response;
  try {
    res = await fetch(`${base}${withQuery(path, query)}`, {
      method,
      headers,
      credentials: 'same-origin',
      body: body === undefined ? null : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, 'network', 'The server cannot be reached. Check your connection and try again.', undefined, []);
  }
  if (!res.ok) throw await toError(res);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

export function api<T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> {
  return send<T>(API_BASE, csrfToken, method, path, body, query);
}

export const get = <T>(path: string, query?: Query) => api<T>('GET', path, undefined, query);
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body ?? {});
export const put = <T>(path: string, body?: unknown) => api<T>('PUT', path, body ?? {});
export const patch = <T>(path: string, body?: unknown) => api<T>('PATCH', path, body ?? {});
export const del = <T>(path: string) => api<T>('DELETE', path);

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface Session {
  userId: string;
  upn: string;
  role: 'administrator' | 'helpdesk' | 'readonly';
  via: string;
  csrfToken: string | null;
  expiresAt: string | null;
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.traceId ? `${e.message} (TraceID ${e.traceId})` : e.message;
  return e instanceof Error ? e.message : String(e);
}

/**
 * The same client against another prefix with its own CSRF token: the Company Portal's `/portal/api`, whose
 * end-user session is separate from the admin session.
 */
export function apiAt(base: string) {
  let token: string | null = null;
  const call = <T>(method: string, path: string, body?: unknown, query?: Query) => send<T>(base, token, method, path, body, query);
  return {
    setCsrfToken(t: string | null): void {
      token = t;
    },
    get: <T>(path: string, query?: Query) => call<T>('GET', path, undefined, query),
    post: <T>(path: string, body?: unknown) => call<T>('POST', path, body ?? {}),
    del: <T>(path: string) => call<T>('DELETE', path),
  };
}
