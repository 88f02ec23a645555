/**
 * A local HTTPS stand-in for Microsoft Graph and the Entra token endpoint, on loopback, for directory sync
 * tests. The token endpoint checks the client id, secret, grant type and scope and issues random bearer
 * tokens; `/v1.0/users/delta` and `/v1.0/groups/delta` serve the directory in pages (`@odata.nextLink`)
 * and end with an `@odata.deltaLink`; a later call on that link returns only what changed since (users
 * and groups re-sent, `@removed` for deletions, `members@delta` with added and removed members, users and
 * nested groups typed by `@odata.type`). `throttle(n)` answers the next n Graph calls with 429 and
 * Retry-After, as Graph does.
 */
import { randomBytes } from 'node:crypto';
import { type Server, createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { CertificateAuthority } from '../../src/pki/authority.js';
import { createRootCa } from '../../src/pki/ca.js';

export interface StandInUser {
  id: string;
  userPrincipalName: string;
  displayName: string;
  accountEnabled: boolean;
}

export interface StandInMember {
  type: 'user' | 'group';
  id: string;
}

type Change =
  | { seq: number; kind: 'user'; id: string }
  | { seq: number; kind: 'group'; id: string; member?: StandInMember & { removed: boolean } };

export interface GraphStandIn {
  /** https://127.0.0.1:<port>/v1.0 */
  graphUrl: string;
  tokenUrl: string;
  caPem: string;
  /** Every request path (with query) Graph received, in order. */
  requests: string[];
  tokenRequests: number;
  setUser(u: StandInUser): void;
  removeUser(id: string): void;
  setGroup(id: string, displayName: string): void;
  removeGroup(id: string): void;
  addMember(groupId: string, member: StandInMember): void;
  removeMember(groupId: string, member: StandInMember): void;
  throttle(n: number): void;
  stop(): Promise<void>;
}

export async function startGraphStandIn(o: {
  tenantId: string;
  clientId: string;
  clientSecret: string;
  pageSize?: number;
}): Promise<GraphStandIn> {
  const now = new Date();
  const root = await createRootCa({ commonName: 'Graph stand-in root', validityYears: 1, now });
  const leaf = await new CertificateAuthority(root).issueServerCertificate({
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + 86400_000),
  });
  const pageSize = o.pageSize ?? 2;
  const users = new Map<string, StandInUser>();
  const groups = new Map<string, { displayName: string; members: StandInMember[] }>();
  const removedUsers = new Set<string>();
  const removedGroups = new Set<string>();
  const changes: Change[] = [];
  let seq = 0;
  const tokens = new Set<string>();
  const sessions = new Map<string, { items: unknown[]; deltaSeq: number; path: string }>();
  let throttled = 0;
  let base = '';

  const userJson = (id: string): unknown => {
    const u = users.get(id);
    return removedUsers.has(id) || !u ? { id, '@removed': { reason: 'deleted' } } : { ...u };
  };
  const typed = (m: StandInMember) => ({ '@odata.type': `#microsoft.graph.${m.type}`, id: m.id });

  const snapshot = (kind: 'users' | 'groups', since: number | undefined): unknown[] => {
    if (kind === 'users') {
      if (since === undefined) return [...users.keys()].filter((id) => !removedUsers.has(id)).map(userJson);
      const ids = [...new Set(changes.filter((c) => c.kind === 'user' && c.seq > since).map((c) => c.id))];
      return ids.map(userJson);
    }
    if (since === undefined)
      return [...groups.entries()]
        .filter(([id]) => !removedGroups.has(id))
        .map(([id, g]) => ({ id, displayName: g.displayName, 'members@delta': g.members.map(typed) }));
    const recent = changes.filter((c): c is Extract<Change, { kind: 'group' }> => c.kind === 'group' && c.seq > since);
    const ids = [...new Set(recent.map((c) => c.id))];
    return ids.map((id) => {
      const g = groups.get(id);
      if (removedGroups.has(id) || !g) return { id, '@removed': { reason: 'deleted' } };
      const memberChanges = recent.filter((c) => c.id === id && c.member).map((c) => c.member as StandInMember & { removed: boolean });
      return {
        id,
        displayName: g.displayName,
        ...(memberChanges.length
          ? {
              'members@delta': memberChanges.map((m) => ({ ...typed(m), ...(m.removed ? { '@removed': { reason: 'deleted' } } : {}) })),
            }
          : {}),
      };
    });
  };

  const json = (res: import('node:http').ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(body));
  };

  const server: Server = createServer({ cert: leaf.certPem, key: leaf.keyPem as string }, (req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', base);
      if (req.method === 'POST' && url.pathname === `/${o.tenantId}/oauth2/v2.0/token`) {
        const f = new URLSearchParams(body);
        if (f.get('client_id') !== o.clientId || f.get('client_secret') !== o.clientSecret) {
          return json(res, 401, {
            error: 'invalid_client',
            error_description: `AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value.\r\nTrace ID: ${randomBytes(8).toString('hex')}`,
          });
        }
        if (f.get('grant_type') !== 'client_credentials' || f.get('scope') !== `${new URL(base).origin}/.default`)
          return json(res, 400, { error: 'invalid_request', error_description: 'AADSTS90014: bad grant or scope' });
        t.tokenRequests++;
        const token = randomBytes(24).toString('base64url');
        tokens.add(token);
        return json(res, 200, { token_type: 'Bearer', expires_in: 3599, access_token: token });
      }
      t.requests.push(`${req.method} ${url.pathname}${url.search}`);
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      if (!bearer || !tokens.has(bearer))
        return json(res, 401, { error: { code: 'InvalidAuthenticationToken', message: 'Access token is empty or invalid.' } });
      if (throttled > 0) {
        throttled--;
        return json(res, 429, { error: { code: 'TooManyRequests', message: 'Too many requests.' } }, { 'retry-after': '0' });
      }
      const m = /^\/v1\.0\/(users|groups)\/delta$/.exec(url.pathname);
      if (req.method !== 'GET' || !m) return json(res, 404, { error: { code: 'Request_ResourceNotFound', message: 'not here' } });
      const kind = m[1] as 'users' | 'groups';
      let sessionId = url.searchParams.get('$skiptoken');
      if (!sessionId) {
        const dt = url.searchParams.get('$deltatoken');
        sessionId = randomBytes(6).toString('hex');
        sessions.set(sessionId, { items: snapshot(kind, dt === null ? undefined : Number(dt)), deltaSeq: seq, path: url.pathname });
      }
      const s = sessions.get(sessionId.split(':')[0] as string);
      if (!s) return json(res, 400, { error: { code: 'BadRequest', message: 'unknown skiptoken' } });
      const offset = Number(sessionId.split(':')[1] ?? 0);
      const page = s.items.slice(offset, offset + pageSize);
      const more = offset + pageSize < s.items.length;
      return json(res, 200, {
        '@odata.context': `${base}/v1.0/$metadata#${kind}`,
        value: page,
        ...(more
          ? { '@odata.nextLink': `${base}${s.path}?$skiptoken=${sessionId.split(':')[0]}:${offset + pageSize}` }
          : { '@odata.deltaLink': `${base}${s.path}?$deltatoken=${s.deltaSeq}` }),
      });
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const t: GraphStandIn = {
    graphUrl: `${base}/v1.0`,
    tokenUrl: `${base}/${o.tenantId}/oauth2/v2.0/token`,
    caPem: root.certPem,
    requests: [],
    tokenRequests: 0,
    setUser(u) {
      users.set(u.id, { ...u });
      removedUsers.delete(u.id);
      changes.push({ seq: ++seq, kind: 'user', id: u.id });
    },
    removeUser(id) {
      removedUsers.add(id);
      changes.push({ seq: ++seq, kind: 'user', id });
    },
    setGroup(id, displayName) {
      const g = groups.get(id);
      if (g) g.displayName = displayName;
      else groups.set(id, { displayName, members: [] });
      removedGroups.delete(id);
      changes.push({ seq: ++seq, kind: 'group', id });
    },
    removeGroup(id) {
      removedGroups.add(id);
      changes.push({ seq: ++seq, kind: 'group', id });
    },
    addMember(groupId, member) {
      groups.get(groupId)?.members.push(member);
      changes.push({ seq: ++seq, kind: 'group', id: groupId, member: { ...member, removed: false } });
    },
    removeMember(groupId, member) {
      const g = groups.get(groupId);
      if (g) g.members = g.members.filter((x) => x.id !== member.id);
      changes.push({ seq: ++seq, kind: 'group', id: groupId, member: { ...member, removed: true } });
    },
    throttle(n) {
      throttled = n;
    },
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
  return t;
}
