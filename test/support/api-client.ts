/** A small HTTPS client for the admin API in end-to-end tests: calls, sign-in, problem+json checks. */
import https from 'node:https';
import { expect } from 'vitest';
import type { TestServer } from './server.js';

export interface ApiResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  // biome-ignore lint/suspicious/noExplicitAny: test responses are inspected field by field
  json: any;
}

export interface Creds {
  cookie?: string | undefined;
  csrf?: string | undefined;
  bearer?: string | undefined;
}

export type CallOptions = Creds & { body?: unknown; raw?: string; contentType?: string; headers?: Record<string, string> };

/** A session made by `signIn`: the first Set-Cookie's `name=value` and the CSRF token from the body. */
export interface SignedIn {
  res: ApiResponse;
  cookie: string;
  csrf: string | undefined;
}

export interface HttpClient {
  call(method: string, path: string, opts?: CallOptions): Promise<ApiResponse>;
  signIn(upn: string, password: string): Promise<SignedIn>;
}

/** The admin REST API (`/api/v1`). */
export function apiClient(srv: () => TestServer): {
  call(method: string, path: string, opts?: CallOptions): Promise<ApiResponse>;
  signIn(upn: string, password: string): Promise<Creds & { res: ApiResponse }>;
} {
  return httpClient(srv, '/api/v1');
}

/** The Company Portal API (`/portal/api`): same calls and sign-in, with the end user's session. */
export function portalClient(srv: () => TestServer): HttpClient {
  return httpClient(srv, '/portal/api');
}

// Both APIs take the same JSON bodies, session cookie, CSRF header and `POST /session`; only the prefix differs.
function httpClient(srv: () => TestServer, prefix: string): HttpClient {
  function call(method: string, path: string, opts: CallOptions = {}): Promise<ApiResponse> {
    const body = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
    const headers: Record<string, string> = { ...opts.headers };
    if (body !== undefined) {
      headers['content-type'] = opts.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    if (opts.cookie) headers.cookie = opts.cookie;
    if (opts.csrf) headers['x-csrf-token'] = opts.csrf;
    if (opts.bearer) headers.authorization = `Bearer ${opts.bearer}`;
    return requestJson(srv(), method, `${prefix}${path}`, headers, body);
  }

  async function signIn(upn: string, password: string): Promise<SignedIn> {
    const res = await call('POST', '/session', { body: { upn, password } });
    const setCookie = [res.headers['set-cookie'] ?? []].flat()[0] ?? '';
    return { res, cookie: setCookie.split(';')[0] ?? '', csrf: res.json?.csrfToken };
  }

  return { call, signIn };
}

/** Waits for a sign-in and expects it to succeed (201), so a refused one fails where it happened. */
export async function expectSignedIn(signingIn: Promise<SignedIn>): Promise<SignedIn> {
  const session = await signingIn;
  expect(session.res.status, session.res.text).toBe(201);
  return session;
}

/** One HTTPS request to the test server; the body parsed as JSON when it is JSON. */
export function requestJson(
  t: TestServer,
  method: string,
  path: string,
  headers: Record<string, string>,
  body: string | undefined,
): Promise<ApiResponse> {
  return new Promise((resolve, reject) => {
    const req = https.request(`${t.base}${path}`, { method, headers, agent: t.agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = text ? JSON.parse(text) : undefined;
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A SCIM 2.0 client for /scim/v2, as an IdP calls it: the bearer token from `token()` unless `bearer`
 * names another (null: none), bodies as application/scim+json.
 */
export function scimClient(srv: () => TestServer, token: () => string) {
  return (method: string, path: string, o: { body?: unknown; raw?: string; bearer?: string | null } = {}): Promise<ApiResponse> => {
    const body = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
    const headers: Record<string, string> = {};
    const bearer = o.bearer === undefined ? token() : o.bearer;
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    if (body !== undefined) {
      headers['content-type'] = 'application/scim+json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    return requestJson(srv(), method, `/scim/v2${path}`, headers, body);
  };
}

export function expectProblem(res: ApiResponse, status: number, code: string): void {
  expect(res.status, res.text).toBe(status);
  expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
  expect(res.json).toMatchObject({ type: `urn:winroll:problem:${code}`, status, code, traceId: expect.any(String) });
  expect(res.text).not.toMatch(/\bat .*\(|\.ts:\d+|node_modules/);
}
