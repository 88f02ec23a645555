/**
 * The admin REST API (/api/v1) on a real server over TLS, on SQLite and PostgreSQL: sign-in, cookies,
 * CSRF, the role matrix, API tokens, problem+json errors, pagination, the audit log, session timeouts,
 * login rate limiting and the OpenAPI document.
 */
import { Validator } from '@seriousme/openapi-schema-validator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI_CONTEXT } from '../../src/core/admin/audit.js';
import { LoginThrottle } from '../../src/core/admin/login-throttle.js';
import { AdminAccounts } from '../../src/core/admin/accounts.js';
import { DirectoryService } from '../../src/core/directory/directory-service.js';
import { apiRoutes } from '../../src/http/api/index.js';
import { type Clock, fixedClock } from '../../src/shared/clock.js';
import { type ApiResponse, type Creds, apiClient } from '../support/api-client.js';
import { enrollPc } from '../support/managed-device.js';
import { ENGINES, type TestServer, startTestServer, itOn } from '../support/server.js';

const PW = 'correct horse battery';
const MINUTE = 60_000;

type Res = ApiResponse;

/** A clock that runs with real time plus an offset the test can move forward. */
function offsetClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return {
    now: () => new Date(Date.now() + offset),
    advance: (ms) => {
      offset += ms;
    },
  };
}

describe.each(ENGINES)('admin API (%s)', (engine) => {
  let t: TestServer | undefined;
  const clock = offsetClock();
  const run = itOn(engine);
  const srv = () => t as TestServer;
  let deviceIds: string[] = [];
  const sessions: Record<'administrator' | 'helpdesk' | 'readonly', Creds> = { administrator: {}, helpdesk: {}, readonly: {} };

  const { call, signIn: signInAs } = apiClient(srv);
  const signIn = (upn: string, password = PW) => signInAs(upn, password);

  function expectProblem(res: Res, status: number, code: string): void {
    expect(res.status, res.text).toBe(status);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json).toMatchObject({
      type: `urn:winroll:problem:${code}`,
      status,
      code,
      title: expect.any(String),
      detail: expect.any(String),
      traceId: expect.any(String),
    });
    expect(res.json.traceId).toBe(res.headers['x-trace-id']);
    // Never a stack trace or source path.
    expect(res.text).not.toMatch(/\bat .*\(|\.ts:\d+|node_modules/);
  }

  beforeAll(async () => {
    t = await startTestServer(engine, {}, {}, { clock });
    if (!t) return;
    await t.addDomain('contoso.com');
    for (const u of ['boss', 'help', 'auditor', 'plain', 'victim', 'spare', 'temp']) await t.addUser(`${u}@contoso.com`, PW);
    const accounts = new AdminAccounts({
      storage: t.server.storage,
      directory: new DirectoryService({ storage: t.server.storage, clock }),
      clock,
    });
    await accounts.add(CLI_CONTEXT, 'boss@contoso.com', 'administrator');
    await accounts.add(CLI_CONTEXT, 'help@contoso.com', 'helpdesk');
    await accounts.add(CLI_CONTEXT, 'auditor@contoso.com', 'readonly');
    await accounts.add(CLI_CONTEXT, 'victim@contoso.com', 'readonly');
    await accounts.add(CLI_CONTEXT, 'temp@contoso.com', 'readonly');
    // Enrolling needs a license (issue 4); plain@ enrolls the two devices the tests act on.
    const plain = await t.directory.findUser('plain@contoso.com');
    if (plain) await t.server.storage.assignLicense(plain.id, clock.now());
    const pcs = [await enrollPc(t, 'plain@contoso.com', PW), await enrollPc(t, 'plain@contoso.com', PW, 'Device')];
    deviceIds = pcs.map((p) => p.device.deviceId);
    for (const role of ['administrator', 'helpdesk', 'readonly'] as const) {
      const upn = { administrator: 'boss', helpdesk: 'help', readonly: 'auditor' }[role];
      const s = await signIn(`${upn}@contoso.com`);
      expect(s.res.status, s.res.text).toBe(201);
      sessions[role] = { cookie: s.cookie, csrf: s.csrf };
    }
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
  });

  describe('sign-in and sessions', () => {
    run('sets a hardened session cookie and returns the CSRF token', async () => {
      const s = await signIn('boss@contoso.com');
      expect(s.res.status).toBe(201);
      const cookie = [s.res.headers['set-cookie'] ?? []].flat()[0] ?? '';
      expect(cookie).toMatch(/^__Host-winroll_session=[A-Za-z0-9_-]{43};/);
      for (const flag of ['HttpOnly', 'Secure', 'SameSite=Strict', 'Path=/']) expect(cookie).toContain(flag);
      expect(cookie).toContain('Max-Age=43200;');
      expect(cookie).not.toMatch(/Domain=/i);
      expect(s.res.json).toMatchObject({
        upn: 'boss@contoso.com',
        role: 'administrator',
        via: 'session',
        csrfToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      });

      const me = await call('GET', '/session', { cookie: s.cookie });
      expect(me.status).toBe(200);
      expect(me.json).toMatchObject({ upn: 'boss@contoso.com', role: 'administrator', csrfToken: s.csrf });
      expect(me.headers['cache-control']).toBe('no-store');
    });

    run('refuses wrong passwords, unknown users and users without an admin role alike', async () => {
      for (const [upn, password] of [
        ['boss@contoso.com', 'wrong password!'],
        ['nobody@contoso.com', PW],
        ['plain@contoso.com', PW],
      ] as const) {
        const s = await signIn(upn, password);
        expectProblem(s.res, 401, 'unauthenticated');
        expect(s.res.headers['set-cookie']).toBeUndefined();
      }
      expectProblem(await call('GET', '/domains'), 401, 'unauthenticated');
      expectProblem(await call('GET', '/domains', { cookie: '__Host-winroll_session=forged' }), 401, 'unauthenticated');
    });

    run('signing out ends the session and clears the cookie', async () => {
      const s = await signIn('boss@contoso.com');
      expectProblem(await call('DELETE', '/session', { cookie: s.cookie }), 403, 'forbidden');
      const out = await call('DELETE', '/session', { cookie: s.cookie, csrf: s.csrf });
      expect(out.status).toBe(204);
      expect([out.headers['set-cookie']].flat()[0]).toMatch(/^__Host-winroll_session=; Path=\/; Max-Age=0/);
      expectProblem(await call('GET', '/session', { cookie: s.cookie }), 401, 'unauthenticated');
    });

    run('removing an admin ends their sessions at once', async () => {
      const s = await signIn('victim@contoso.com');
      expect((await call('GET', '/domains', { cookie: s.cookie })).status).toBe(200);
      const removed = await call('DELETE', '/admins/victim@contoso.com', sessions.administrator);
      expect(removed.status, removed.text).toBe(204);
      expectProblem(await call('GET', '/domains', { cookie: s.cookie }), 401, 'unauthenticated');
    });
  });

  describe('CSRF', () => {
    run('a state-changing request with the session cookie needs the matching X-CSRF-Token', async () => {
      const admin = sessions.administrator;
      const missing = await call('POST', '/groups', { cookie: admin.cookie, body: { name: 'csrf-test' } });
      expectProblem(missing, 403, 'forbidden');
      expect(missing.json.detail).toMatch(/X-CSRF-Token/);
      const other = sessions.readonly.csrf ?? '';
      expectProblem(await call('POST', '/groups', { cookie: admin.cookie, csrf: other, body: { name: 'csrf-test' } }), 403, 'forbidden');
      expectProblem(
        await call('POST', '/groups', { cookie: admin.cookie, csrf: 'x'.repeat(43), body: { name: 'csrf-test' } }),
        403,
        'forbidden',
      );
      const ok = await call('POST', '/groups', { ...admin, body: { name: 'csrf-test' } });
      expect(ok.status, ok.text).toBe(201);
      // Reads need none.
      expect((await call('GET', '/groups', { cookie: admin.cookie })).status).toBe(200);
    });
  });

  describe('roles', () => {
    type Role = 'administrator' | 'helpdesk' | 'readonly';
    const matrix: Array<{ what: string; method: string; path: () => string; body?: unknown; allowed: Role[] }> = [
      { what: 'list devices', method: 'GET', path: () => '/devices', allowed: ['administrator', 'helpdesk', 'readonly'] },
      { what: 'show a device', method: 'GET', path: () => `/devices/${deviceIds[0]}`, allowed: ['administrator', 'helpdesk', 'readonly'] },
      { what: 'read the audit log', method: 'GET', path: () => '/audit', allowed: ['administrator', 'readonly'] },
      {
        what: 'sync a device',
        method: 'POST',
        path: () => `/devices/${deviceIds[0]}/actions`,
        body: { kind: 'sync' },
        allowed: ['administrator', 'helpdesk'],
      },
      {
        what: 'restart a device',
        method: 'POST',
        path: () => `/devices/${deviceIds[0]}/actions`,
        body: { kind: 'restart' },
        allowed: ['administrator', 'helpdesk'],
      },
      {
        what: 'wipe a device',
        method: 'POST',
        path: () => `/devices/${deviceIds[1]}/actions`,
        body: { kind: 'wipe', keepEnrollment: true },
        allowed: ['administrator'],
      },
      {
        what: 'add a profile',
        method: 'PUT',
        path: () => '/profiles/RoleMatrix',
        body: { scope: 'device', settings: [{ path: 'Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value: '0' }] },
        allowed: ['administrator'],
      },
      { what: 'add a domain', method: 'POST', path: () => '/domains', body: { name: 'roles.example' }, allowed: ['administrator'] },
      { what: 'list API tokens', method: 'GET', path: () => '/tokens', allowed: ['administrator'] },
      { what: 'create an API token', method: 'POST', path: () => '/tokens', body: { name: 'role-matrix' }, allowed: ['administrator'] },
    ];
    for (const row of matrix) {
      run(`${row.what}: ${row.allowed.join(', ')} only`, async () => {
        // The allowed roles run last, so a create succeeds once and is not reported as a conflict.
        const order: Role[] = (['readonly', 'helpdesk', 'administrator'] as Role[]).sort(
          (a, b) => Number(row.allowed.includes(a)) - Number(row.allowed.includes(b)),
        );
        for (const role of order) {
          const res = await call(row.method, row.path(), { ...sessions[role], body: row.body });
          if (row.allowed.includes(role)) {
            expect(res.status, `${role}: ${res.text}`).toBeLessThan(300);
          } else {
            expectProblem(res, 403, 'forbidden');
            expect(res.json.detail).toContain(role);
          }
        }
      });
    }
  });

  describe('API tokens', () => {
    run('a token works as a bearer credential with its role, without CSRF, until revoked', async () => {
      const created = await call('POST', '/tokens', { ...sessions.administrator, body: { name: 'helpdesk-script', role: 'helpdesk' } });
      expect(created.status, created.text).toBe(201);
      const token: string = created.json.token;
      expect(token).toMatch(/^wr_[A-Za-z0-9_-]{43}$/);
      expect(created.json.apiToken).toMatchObject({
        name: 'helpdesk-script',
        role: 'helpdesk',
        createdByUpn: 'boss@contoso.com',
        revokedAt: null,
      });

      const me = await call('GET', '/session', { bearer: token });
      expect(me.json).toMatchObject({ upn: 'boss@contoso.com', role: 'helpdesk', via: 'token', csrfToken: null });
      expect((await call('GET', '/devices', { bearer: token })).status).toBe(200);
      expect((await call('POST', `/devices/${deviceIds[0]}/actions`, { bearer: token, body: { kind: 'restart' } })).status).toBe(202);
      expectProblem(
        await call('PUT', '/profiles/ByToken', {
          bearer: token,
          body: { scope: 'device', settings: [{ path: 'Vendor/MSFT/X', value: '1' }] },
        }),
        403,
        'forbidden',
      );

      // The list never shows secrets.
      const list = await call('GET', '/tokens?limit=200', sessions.administrator);
      expect(list.text).not.toContain(token);
      expect(list.text).not.toMatch(/tokenHash|token_hash/);
      const listed = list.json.items.find((i: { name: string }) => i.name === 'helpdesk-script');
      expect(listed.lastUsedAt).not.toBeNull();

      const revoked = await call('DELETE', `/tokens/${created.json.apiToken.id}`, sessions.administrator);
      expect(revoked.status, revoked.text).toBe(200);
      expect(revoked.json.revokedAt).not.toBeNull();
      expectProblem(await call('GET', '/devices', { bearer: token }), 401, 'unauthenticated');
    });

    run('refuses malformed tokens, a higher role than the creator has and duplicate names', async () => {
      expectProblem(await call('GET', '/devices', { bearer: 'wr_nope' }), 401, 'unauthenticated');
      expectProblem(await call('GET', '/devices', { headers: { authorization: 'Basic Ym9zczpwdw==' } }), 401, 'unauthenticated');
      const admin = await call('POST', '/tokens', { ...sessions.administrator, body: { name: 'admin-script' } });
      expect(admin.json.apiToken.role).toBe('administrator');
      const ro = await call('POST', '/tokens', { bearer: admin.json.token, body: { name: 'ro-script', role: 'readonly' } });
      expect(ro.status, ro.text).toBe(201);
      expectProblem(await call('POST', '/tokens', { ...sessions.administrator, body: { name: 'admin-script' } }), 409, 'conflict');
      // A readonly token cannot mint anything (tokens are administrator-only).
      expectProblem(
        await call('POST', '/tokens', { bearer: ro.json.token, body: { name: 'escalate', role: 'administrator' } }),
        403,
        'forbidden',
      );
    });
  });

  describe('errors are problem+json', () => {
    run('400 names the field, 404, 409, 415, 422 and unknown routes', async () => {
      const admin = sessions.administrator;
      const bad = await call('POST', '/domains', { ...admin, body: { name: 5 } });
      expectProblem(bad, 400, 'invalid_request');
      expect(bad.json.errors[0].path).toBe('body.name');
      const badAction = await call('POST', `/devices/${deviceIds[0]}/actions`, { ...admin, body: { kind: 'explode' } });
      expectProblem(badAction, 400, 'invalid_request');
      expect(badAction.json.errors[0].path).toBe('body.kind');
      expectProblem(await call('GET', '/devices?limit=1000', admin), 400, 'invalid_request');
      expectProblem(await call('GET', '/groups?cursor=bm90LWEtY3Vyc29y', admin), 400, 'invalid_request');
      expectProblem(await call('POST', '/domains', { ...admin, raw: '{"name":' }), 400, 'invalid_request');
      expectProblem(await call('POST', '/domains', { ...admin, raw: 'name=x', contentType: 'text/plain' }), 415, 'unsupported_media_type');
      expectProblem(
        await call('POST', '/domains', { ...admin, raw: '<name/>', contentType: 'application/xml' }),
        415,
        'unsupported_media_type',
      );

      expectProblem(await call('GET', '/devices/0123456789ABCDEF0123456789ABCDEF', admin), 404, 'not_found');
      expectProblem(await call('GET', '/profiles/NoSuchProfile', admin), 404, 'not_found');
      expectProblem(await call('GET', '/no/such/route', admin), 404, 'not_found');

      expect((await call('POST', '/domains', { ...admin, body: { name: 'dup.example' } })).status).toBe(201);
      const dup = await call('POST', '/domains', { ...admin, body: { name: 'dup.example' } });
      expectProblem(dup, 409, 'conflict');
      expect(dup.json.detail).toContain('dup.example');

      const weak = await call('POST', '/users', { ...admin, body: { upn: 'weak@contoso.com', password: 'short' } });
      expectProblem(weak, 422, 'invalid_input');
      expect(weak.text).not.toContain('"short"');
      expectProblem(
        await call('POST', `/devices/${deviceIds[0]}/actions`, { ...admin, body: { kind: 'rename', name: 'NEWNAME' } }),
        422,
        'invalid_input',
      );
    });
  });

  describe('resources', () => {
    run('pages through lists with limit and an opaque cursor, in a stable order', async () => {
      const admin = sessions.administrator;
      const names = ['page-e', 'page-a', 'page-d', 'page-b', 'page-c'];
      for (const name of names) expect((await call('POST', '/groups', { ...admin, body: { name } })).status).toBe(201);
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const res: Res = await call('GET', `/groups?limit=2${cursor ? `&cursor=${cursor}` : ''}`, admin);
        expect(res.status).toBe(200);
        expect(res.json.items.length).toBeLessThanOrEqual(2);
        seen.push(...res.json.items.map((g: { name: string }) => g.name));
        cursor = res.json.nextCursor;
        pages++;
      } while (cursor && pages < 20);
      expect(seen.filter((n) => n.startsWith('page-'))).toEqual([...names].sort());
      expect(new Set(seen).size).toBe(seen.length);

      const d1 = await call('GET', '/devices?limit=1&upn=plain@contoso.com', admin);
      expect(d1.json.items).toHaveLength(1);
      const d2 = await call('GET', `/devices?limit=1&upn=plain@contoso.com&cursor=${d1.json.nextCursor}`, admin);
      expect([d1.json.items[0].deviceId, d2.json.items[0].deviceId]).toEqual([...deviceIds].sort());
      expect(d2.json.nextCursor).toBeNull();
      const corporate = await call('GET', '/devices?ownership=corporate&status=enrolled', admin);
      expect(corporate.json.items.map((d: { deviceId: string }) => d.deviceId)).toEqual([deviceIds[1]]);
    });

    run('domains, users, groups, devices and profiles round-trip', async () => {
      const admin = sessions.administrator;
      const dom = await call('POST', '/domains', { ...admin, body: { name: 'Fabrikam.example', authPolicy: 'Federated' } });
      expect(dom.json).toMatchObject({ name: 'fabrikam.example', authPolicy: 'Federated' });
      const patched = await call('PATCH', '/domains/fabrikam.example', { ...admin, body: { authPolicy: 'OnPremise' } });
      expect(patched.json.authPolicy).toBe('OnPremise');

      const user = await call('POST', '/users', { ...admin, body: { upn: 'Dana@Fabrikam.example', password: PW, displayName: 'Dana' } });
      expect(user.status, user.text).toBe(201);
      expect(user.text).not.toMatch(/password|scrypt/i);
      expect((await call('GET', '/users/dana@fabrikam.example', admin)).json).toMatchObject({
        id: user.json.id,
        displayName: 'Dana',
        enabled: true,
      });
      expect((await call('GET', `/users/${user.json.id}`, admin)).json.upn).toBe('dana@fabrikam.example');

      expect((await call('POST', '/groups', { ...admin, body: { name: 'Fabrikam Staff' } })).status).toBe(201);
      expect(
        (
          await call('POST', `/groups/${encodeURIComponent('Fabrikam Staff')}/members`, {
            ...admin,
            body: { upn: 'dana@fabrikam.example' },
          })
        ).status,
      ).toBe(204);

      const put = await call('PUT', '/profiles/Camera%20Off', {
        ...admin,
        body: { scope: 'device', settings: [{ path: 'Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value: '0' }] },
      });
      expect(put.status, put.text).toBe(200);
      expect(put.json).toMatchObject({ name: 'Camera Off', version: 1 });
      const assigned = await call('POST', '/profiles/Camera%20Off/assignments', { ...admin, body: { device: deviceIds[0] } });
      expect(assigned.json.queued).toBe(1);
      expect((await call('POST', '/profiles/Camera%20Off/assignments', { ...admin, body: { group: 'Fabrikam Staff' } })).status).toBe(200);
      expectProblem(await call('POST', '/profiles/Camera%20Off/assignments', { ...admin, body: {} }), 400, 'invalid_request');
      const shown = await call('GET', '/profiles/Camera%20Off', admin);
      expect(shown.json.assignments).toEqual(
        expect.arrayContaining([
          { kind: 'device', group: null, device: deviceIds[0], intent: 'required' },
          { kind: 'group', group: 'Fabrikam Staff', device: null, intent: 'required' },
        ]),
      );
      expect((await call('DELETE', '/profiles/Camera%20Off/assignments/group/Fabrikam%20Staff', admin)).status).toBe(204);
      expect((await call('GET', '/profiles/Camera%20Off', admin)).json.assignments).toHaveLength(1);

      const device = await call('GET', `/devices/${deviceIds[0]}`, admin);
      expect(device.json).toMatchObject({ deviceId: deviceIds[0], upn: 'plain@contoso.com', status: 'enrolled', ownership: 'personal' });
      expect(device.json.commands.some((c: { locUri: string }) => c.locUri.endsWith('Camera/AllowCamera'))).toBe(true);
      expect(device.text).not.toMatch(/certDer|cert_der/);

      expect((await call('DELETE', '/profiles/Camera%20Off', admin)).status).toBe(204);
      expectProblem(await call('GET', '/profiles/Camera%20Off', admin), 404, 'not_found');
    });

    run('disabling a user ends their admin sessions and sign-ins until enabled again', async () => {
      const admin = sessions.administrator;
      const s = await signIn('temp@contoso.com');
      expect(s.res.status).toBe(201);
      const off = await call('PATCH', '/users/temp@contoso.com', { ...admin, body: { enabled: false } });
      expect(off.status, off.text).toBe(200);
      expect(off.json).toMatchObject({ upn: 'temp@contoso.com', enabled: false });
      expectProblem(await call('GET', '/session', { cookie: s.cookie }), 401, 'unauthenticated');
      expectProblem((await signIn('temp@contoso.com')).res, 401, 'unauthenticated');
      const on = await call('PATCH', `/users/${off.json.id}`, { ...admin, body: { enabled: true } });
      expect(on.json.enabled).toBe(true);
      expect((await signIn('temp@contoso.com')).res.status).toBe(201);
      const audit = await call('GET', '/audit?targetType=user&targetId=temp@contoso.com', admin);
      expect(audit.json.items.map((e: { action: string }) => e.action)).toEqual(['user.enable', 'user.disable']);
      expect(audit.json.items[1]).toMatchObject({ before: { enabled: true }, after: { enabled: false } });
      expectProblem(await call('PATCH', '/users/temp@contoso.com', { ...sessions.helpdesk, body: { enabled: false } }), 403, 'forbidden');
    });

    run('responses match the schemas the OpenAPI document publishes', async () => {
      const routes = apiRoutes();
      const schemaOf = (operationId: string) => {
        const r = routes.find((x) => x.operationId === operationId);
        if (!r?.response.schema) throw new Error(`no schema for ${operationId}`);
        return r.response.schema;
      };
      const admin = sessions.administrator;
      const checks: Array<[string, string]> = [
        ['listDevices', '/devices'],
        ['getDevice', `/devices/${deviceIds[0]}`],
        ['listDomains', '/domains'],
        ['listUsers', '/users'],
        ['listGroups', '/groups'],
        ['listProfiles', '/profiles'],
        ['listAudit', '/audit'],
        ['listAdmins', '/admins'],
        ['listApiTokens', '/tokens'],
        ['getSession', '/session'],
      ];
      for (const [operationId, path] of checks) {
        const res = await call('GET', path, admin);
        expect(res.status).toBe(200);
        const parsed = schemaOf(operationId).safeParse(res.json);
        expect(parsed.success, `${operationId}: ${parsed.error?.message}`).toBe(true);
      }
    });
  });

  describe('audit log', () => {
    run('records changes and remote actions with who, before/after and the trace id', async () => {
      const admin = sessions.administrator;
      const action = await call('POST', `/devices/${deviceIds[1]}/actions`, { ...sessions.helpdesk, body: { kind: 'restart' } });
      expect(action.status).toBe(202);

      const entries = await call('GET', `/audit?targetType=device&targetId=${deviceIds[1]}&actor=help@contoso.com`, admin);
      expect(entries.status).toBe(200);
      const restart = entries.json.items[0];
      expect(restart).toMatchObject({
        action: 'device.action.restart',
        targetType: 'device',
        targetId: deviceIds[1],
        actor: { kind: 'admin', upn: 'help@contoso.com' },
        actorName: 'help@contoso.com',
        outcome: 'succeeded',
        before: { status: 'enrolled' },
        after: { commandId: action.json.commandId, actionId: action.json.actionId },
        traceId: action.headers['x-trace-id'],
      });

      // A profile edit records both versions.
      const body = (value: string) => ({
        scope: 'device',
        settings: [{ path: 'Vendor/MSFT/Policy/Config/Camera/AllowCamera', format: 'int', value }],
      });
      await call('PUT', '/profiles/Audited', { ...admin, body: body('0') });
      await call('PUT', '/profiles/Audited', { ...admin, body: body('1') });
      const edits = await call('GET', '/audit?targetType=profile&targetId=Audited', admin);
      expect(edits.json.items.map((e: { action: string }) => e.action)).toEqual(['profile.update', 'profile.add']);
      expect(edits.json.items[0].before).toMatchObject({ version: 1, settings: [{ value: '0' }] });
      expect(edits.json.items[0].after).toMatchObject({ version: 2, settings: [{ value: '1' }] });

      // Users: the password never reaches the log.
      await call('POST', '/users', { ...admin, body: { upn: 'erin@contoso.com', password: 'Sup3r-Secret-Pw' } });
      const userAudit = await call('GET', '/audit?targetType=user&targetId=erin@contoso.com', admin);
      expect(userAudit.json.items[0]).toMatchObject({
        action: 'user.add',
        outcome: 'succeeded',
        after: { upn: 'erin@contoso.com', enabled: true },
      });
      expect(userAudit.text).not.toContain('Sup3r-Secret-Pw');

      // Failed changes are recorded as failed.
      await call('POST', '/domains', { ...admin, body: { name: 'contoso.com' } });
      const failed = await call('GET', '/audit?targetType=domain&targetId=contoso.com', admin);
      expect(failed.json.items[0]).toMatchObject({ action: 'domain.add', outcome: 'failed', error: expect.stringContaining('conflict') });

      // Tokens: the actor is the token, and the secret is never logged.
      const created = await call('POST', '/tokens', { ...admin, body: { name: 'audited-script', role: 'helpdesk' } });
      await call('POST', `/devices/${deviceIds[0]}/actions`, { bearer: created.json.token, body: { kind: 'sync' } });
      const byToken = await call('GET', '/audit?actor=audited-script', admin);
      expect(byToken.json.items[0]).toMatchObject({
        action: 'device.action.sync',
        actor: { kind: 'token', tokenName: 'audited-script', upn: 'boss@contoso.com' },
        actorName: 'token:audited-script',
      });
      const tokenAudit = await call('GET', `/audit?targetType=api_token&targetId=${created.json.apiToken.id}`, admin);
      expect(tokenAudit.json.items[0]).toMatchObject({ action: 'api_token.create', after: { name: 'audited-script', role: 'helpdesk' } });
      const everything = await call('GET', '/audit?limit=200', admin);
      expect(everything.text).not.toContain(created.json.token);
      expect(everything.text).not.toContain(admin.csrf);

      // Admin changes (made from the CLI in setup) and sign-ins are there too.
      const setup = await call('GET', '/audit?targetType=admin&targetId=boss@contoso.com', admin);
      const actions = setup.json.items.map((e: { action: string; actorName: string }) => `${e.action} by ${e.actorName}`);
      expect(actions).toContain('admin.add by cli');
      expect(actions).toContain('session.create by boss@contoso.com');

      // Paged, newest first, filterable by time.
      const page = await call('GET', '/audit?limit=3', admin);
      expect(page.json.items).toHaveLength(3);
      const next = await call('GET', `/audit?limit=3&cursor=${page.json.nextCursor}`, admin);
      expect(next.json.items[0].at <= page.json.items[2].at).toBe(true);
      expect(next.json.items.map((e: { id: string }) => e.id)).not.toContain(page.json.items[2].id);
      const future = await call('GET', `/audit?since=${encodeURIComponent(new Date(Date.now() + 86400_000 * 3).toISOString())}`, admin);
      expect(future.json.items).toEqual([]);
    });
  });

  describe('OpenAPI', () => {
    run('serves a valid OpenAPI 3.1 document describing every route, its auth and schemas', async () => {
      const res = await call('GET', '/openapi.json');
      expect(res.status).toBe(200);
      const doc = res.json;
      expect(doc.openapi).toBe('3.1.0');

      const validator = new Validator();
      const result = await validator.validate(structuredClone(doc));
      expect(result.errors ?? [], JSON.stringify(result.errors)).toEqual([]);
      expect(result.valid).toBe(true);

      // Every route of the table is in the document, with responses, roles and security.
      const routes = apiRoutes();
      const schemes = Object.keys(doc.components.securitySchemes);
      expect(schemes.sort()).toEqual(['bearerToken', 'csrfToken', 'sessionCookie']);
      for (const r of routes) {
        const op = doc.paths[r.path]?.[r.method.toLowerCase()];
        expect(op, `${r.method} ${r.path}`).toBeDefined();
        expect(Object.keys(op.responses).length).toBeGreaterThan(1);
        expect(op.operationId).toBe(r.operationId);
        for (const requirement of op.security) for (const name of Object.keys(requirement)) expect(schemes).toContain(name);
        if (r.access === 'public') expect(op.security).toEqual([]);
        else {
          expect(op['x-winroll-roles']).toEqual([...r.access]);
          expect(op.responses['401']).toBeDefined();
          if (r.method !== 'GET') expect(op.security).toContainEqual({ sessionCookie: [], csrfToken: [] });
        }
        for (const p of (r.path.match(/\{(\w+)\}/g) ?? []).map((x) => x.slice(1, -1))) {
          expect(
            op.parameters.some((q: { in: string; name: string }) => q.in === 'path' && q.name === p),
            `${r.path} documents {${p}}`,
          ).toBe(true);
        }
      }
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining([
          '/session',
          '/tokens',
          '/domains',
          '/users',
          '/groups',
          '/devices',
          '/devices/{deviceId}/actions',
          '/profiles/{name}',
          '/audit',
        ]),
      );

      // Every $ref resolves inside the document.
      const refs: string[] = [];
      const walk = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (v && typeof v === 'object') {
          for (const [k, val] of Object.entries(v)) {
            if (k === '$ref' && typeof val === 'string') refs.push(val);
            else walk(val);
          }
        }
      };
      walk(doc);
      expect(refs.length).toBeGreaterThan(10);
      for (const ref of new Set(refs)) {
        expect(ref.startsWith('#/'), ref).toBe(true);
        const target = ref
          .slice(2)
          .split('/')
          .reduce<unknown>(
            (node, key) => (node as Record<string, unknown> | undefined)?.[key.replace(/~1/g, '/').replace(/~0/g, '~')],
            doc,
          );
        expect(target, `${ref} resolves`).toBeDefined();
      }
      expect(doc.components.schemas.Problem.required).toEqual(expect.arrayContaining(['type', 'title', 'status', 'detail', 'code']));
    });
  });

  describe('session lifetime', () => {
    run('ends after 30 idle minutes, and after 12 hours whatever the activity', async () => {
      const idle = await signIn('auditor@contoso.com');
      clock.advance(29 * MINUTE);
      expect((await call('GET', '/session', { cookie: idle.cookie })).status).toBe(200);
      clock.advance(29 * MINUTE);
      expect((await call('GET', '/session', { cookie: idle.cookie })).status).toBe(200);
      clock.advance(31 * MINUTE);
      expectProblem(await call('GET', '/session', { cookie: idle.cookie }), 401, 'unauthenticated');

      const busy = await signIn('auditor@contoso.com');
      for (let elapsed = 0; elapsed < 12 * 60 - 25; elapsed += 25) {
        clock.advance(25 * MINUTE);
        expect((await call('GET', '/session', { cookie: busy.cookie })).status).toBe(200);
      }
      clock.advance(30 * MINUTE);
      expectProblem(await call('GET', '/session', { cookie: busy.cookie }), 401, 'unauthenticated');
    });
  });

  describe('login rate limiting (runs last: it blocks this client address)', () => {
    run('answers 429 with Retry-After after 10 failures, before checking the password', async () => {
      // Earlier failed sign-ins from this address left the window when the lifetime test moved the clock 12 h.
      const existing = await signIn('boss@contoso.com');
      for (let i = 0; i < 10; i++) expectProblem((await signIn('spare@contoso.com', `wrong-${i}-password`)).res, 401, 'unauthenticated');
      const blocked = await signIn('spare@contoso.com', 'wrong-again-password');
      expectProblem(blocked.res, 429, 'rate_limited');
      const retryAfter = Number(blocked.res.headers['retry-after']);
      expect(retryAfter).toBeGreaterThan(800);
      expect(retryAfter).toBeLessThanOrEqual(900);
      // Even the right password is refused while blocked, and so is every account from this address.
      expectProblem((await signIn('spare@contoso.com', PW)).res, 429, 'rate_limited');
      expectProblem((await signIn('boss@contoso.com', PW)).res, 429, 'rate_limited');
      // Existing sessions keep working.
      expect((await call('GET', '/session', existing)).status).toBe(200);
      clock.advance(16 * MINUTE);
      expect((await signIn('boss@contoso.com', PW)).res.status).toBe(201);
    });
  });
});

describe('LoginThrottle', () => {
  it('counts per key in a sliding window, and a reset clears only that key', () => {
    const clock = fixedClock(new Date('2025-01-01T00:00:00Z'));
    const throttle = new LoginThrottle(clock, { maxFailures: 3, windowMs: 15 * MINUTE });
    const keys = ['addr:10.0.0.1', 'acct:a@contoso.com'];
    for (let i = 0; i < 2; i++) throttle.recordFailure(keys);
    expect(throttle.retryAfterSeconds(keys)).toBe(0);
    clock.advance(5 * MINUTE);
    throttle.recordFailure(keys);
    // Blocked until the first failure leaves the window (15 minutes after it, 10 from now).
    expect(throttle.retryAfterSeconds(keys)).toBe(600);
    throttle.reset('acct:a@contoso.com');
    expect(throttle.retryAfterSeconds(['acct:a@contoso.com'])).toBe(0);
    expect(throttle.retryAfterSeconds(['addr:10.0.0.1'])).toBe(600);
    clock.advance(10 * MINUTE + 1);
    expect(throttle.retryAfterSeconds(keys)).toBe(0);
  });

  it('forgets the oldest keys beyond its bound', () => {
    const clock = fixedClock(new Date('2025-01-01T00:00:00Z'));
    const throttle = new LoginThrottle(clock, { maxFailures: 1, windowMs: MINUTE, maxKeys: 2 });
    for (const k of ['a', 'b', 'c']) throttle.recordFailure([k]);
    expect(throttle.retryAfterSeconds(['a'])).toBe(0);
    expect(throttle.retryAfterSeconds(['c'])).toBe(60);
  });
});
