/**
 * Directory tokens verified with keys fetched over the network: a tenant connected with
 * `winroll entra connect --jwks-url` pointing at the loopback stand-in (test/support/entra-stand-in.ts),
 * whose keys sign real RS256 tokens, and the Done-when cases through the real enrollment endpoints: join
 * (corporate, My/System, MDM wins over MAM), work account (personal, My/User), wrong tenant, wrong
 * audience, expired, tampered, key rotation, an unreachable or silent key URL (an explicit fault, not a
 * crash), the oid checks; then the tenant connection as the API and `winroll entra urls` show it.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { generateDeviceKey, newSimulatedDevice } from '../../src/simulator/device.js';
import { type EnrollmentOutcome, enroll } from '../../src/simulator/enroll.js';
import { type AdminRole, signInAdmins } from '../support/admins.js';
import { type Creds, apiClient } from '../support/api-client.js';
import { enrollmentFailure, entraConnect, setUserScopes } from '../support/entra.js';
import { type EntraStandIn, oidFor, startEntraStandIn } from '../support/entra-stand-in.js';
import { dataFlags, winroll } from '../support/cli.js';
import { ENGINES, type TestServer, itOn, startTestServer } from '../support/server.js';

const KEY = generateDeviceKey();
const TID = '8d2f3a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b';
const SILENT_TID = '9e3a4b5c-6d7e-4f80-9a1b-2c3d4e5f6a7b';
const DOWN_TID = 'af4b5c6d-7e8f-4091-8b2c-3d4e5f6a7b8c';
const STRANGER_TID = '11111111-2222-4333-8444-555555555555';
const CLIENT_ID = 'b05c6d7e-8f90-4a1b-9c2d-4e5f6a7b8c9d';
const PW = 'correct horse battery staple';
/** The server's minimum time between refetches for an unknown kid (app/server.ts). */
const REFETCH_COOLDOWN_MS = 5_000;

describe.each(ENGINES)('directory tokens with keys fetched from a JWKS URL (%s)', (engine) => {
  let t: TestServer | undefined;
  let entra: EntraStandIn;
  const run = itOn(engine);
  const srv = () => t as TestServer;
  const { call, signIn } = apiClient(srv);
  const cliData = () => dataFlags(srv());
  let sessions: Record<AdminRole, Creds> = { administrator: {}, helpdesk: {}, readonly: {} };

  const mint = (upn: string, o: { tid?: string; aud?: string; expSeconds?: number; kid?: string; extra?: Record<string, unknown> } = {}) =>
    entra.mint(upn, { tid: o.tid ?? TID, aud: o.aud ?? srv().base, ...o });
  const enrollWith = (token: string, type: 'Full' | 'Device', upn = 'both@contoso.com'): Promise<EnrollmentOutcome> =>
    enroll({
      server: srv().base,
      upn,
      password: '',
      directoryToken: token,
      device: newSimulatedDevice(KEY),
      agent: srv().agent,
      enrollmentType: type,
    });
  const connect = (tid: string, jwksUrl: string) => entraConnect(srv(), tid, CLIENT_ID, ['--jwks-url', jwksUrl]);

  beforeAll(async () => {
    t = await startTestServer(engine);
    if (!t) return;
    entra = await startEntraStandIn();
    await t.addDomain('contoso.com', 'Federated');
    const s = t.server.storage;
    for (const u of ['both', 'mdm', 'other', 'nooid', 'boss', 'help', 'auditor']) await t.addUser(`${u}@contoso.com`, PW);
    const mdm = await s.addGroup({ name: 'mdm-users', now: new Date() });
    const mam = await s.addGroup({ name: 'mam-users', now: new Date() });
    for (const upn of ['both@contoso.com', 'mdm@contoso.com', 'other@contoso.com', 'nooid@contoso.com'])
      await s.addGroupMember(mdm.id, (await s.getUserByUpn(upn))?.id as string);
    await s.addGroupMember(mam.id, (await s.getUserByUpn('both@contoso.com'))?.id as string);
    await setUserScopes(t, { mdm: [mdm.id], mam: [mam.id] });
    sessions = await signInAdmins(t, signIn, PW, {
      administrator: 'boss@contoso.com',
      helpdesk: 'help@contoso.com',
      readonly: 'auditor@contoso.com',
    });

    const connected = await connect(TID, entra.jwksUrl);
    expect(connected).toMatchObject({ tenantId: TID, keys: { url: entra.jwksUrl }, changed: true });
    // Connecting again with the same values changes nothing.
    expect(await connect(TID, entra.jwksUrl)).toMatchObject({ tenantId: TID, changed: false });
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    await entra?.close();
  });

  run('join: corporate, certificate in My/System, MDM wins for a user in both scopes', async () => {
    const fetchesBefore = entra.fetches.length;
    const r = await enrollWith(await mint('both@contoso.com'), 'Device');
    expect(r.store).toBe('System');
    // The keys came from the stand-in over the network (fetched once, then cached).
    expect(fetchesBefore).toBe(0);
    expect(entra.fetches.length).toBe(1);
    const [attempt] = await srv().server.storage.listEnrollmentAttempts({ limit: 1, upn: 'both@contoso.com' });
    expect(attempt).toMatchObject({ outcome: 'mdm', ownership: 'corporate', method: 'automatic', enrollmentType: 'Device' });
  });

  run('work account for a user in the MDM scope only: personal, certificate in My/User', async () => {
    const r = await enrollWith(await mint('mdm@contoso.com'), 'Full', 'mdm@contoso.com');
    expect(r.store).toBe('User');
    const [attempt] = await srv().server.storage.listEnrollmentAttempts({ limit: 1, upn: 'mdm@contoso.com' });
    expect(attempt).toMatchObject({ outcome: 'mdm', ownership: 'personal', method: 'automatic', enrollmentType: 'Full' });
  });

  const refusals: Array<[string, () => Promise<string>, RegExp]> = [
    ['a tenant that is not connected', () => mint('mdm@contoso.com', { tid: STRANGER_TID }), new RegExp(`tenant ${STRANGER_TID}`)],
    ['the wrong audience', () => mint('mdm@contoso.com', { aud: 'https://elsewhere.example.com' }), /not valid/],
    ['an expired token', () => mint('mdm@contoso.com', { expSeconds: -600 }), /expired/],
    [
      'a tampered token (payload changed, signature kept)',
      async () => {
        const [h, p, sig] = (await mint('mdm@contoso.com')).split('.');
        const claims = JSON.parse(Buffer.from(p as string, 'base64url').toString('utf8'));
        claims.upn = 'both@contoso.com';
        return `${h}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${sig}`;
      },
      /not valid/,
    ],
    ['a token without an oid', () => mint('nooid@contoso.com', { extra: { oid: undefined } }), /not valid/],
  ];
  for (const [what, token, message] of refusals) {
    run(`refuses ${what}: Authentication fault (0x80180002)`, async () => {
      const err = await enrollmentFailure(enrollWith(await token(), 'Full', 'mdm@contoso.com'));
      expect(err.step).toBe('policy');
      expect(err.faultSubcode).toMatch(/(^|:)Authentication$/);
      expect(err.hresult).toBe(0x80180002);
      expect(err.message).toMatch(message);
    });
  }

  run("links a user to the token's oid on first use and refuses a token whose oid contradicts it", async () => {
    await enrollWith(await mint('other@contoso.com'), 'Full', 'other@contoso.com');
    expect(
      await srv().server.storage.getDirectoryLink((await srv().server.storage.getUserByUpn('other@contoso.com'))?.id as string),
    ).toMatchObject({
      tenantId: TID,
      objectId: oidFor('other@contoso.com'),
    });
    const err = await enrollmentFailure(
      enrollWith(await mint('other@contoso.com', { extra: { oid: randomUUID() } }), 'Full', 'other@contoso.com'),
    );
    expect(err.faultSubcode).toMatch(/(^|:)Authentication$/);
    expect(err.message).toMatch(/does not match/);
    const [attempt] = await srv().server.storage.listEnrollmentAttempts({ limit: 1, upn: 'other@contoso.com' });
    expect(attempt?.reasons.join('\n')).toMatch(/linked to directory object/);
  });

  run(
    'key rotation: a token signed by a new kid is accepted once the server refetches the keys',
    async () => {
      const oldKid = entra.currentKid();
      await enrollWith(await mint('mdm@contoso.com'), 'Full', 'mdm@contoso.com');
      const newKid = await entra.rotate();
      expect(newKid).not.toBe(oldKid);
      // The server refetches for an unknown kid, but not more often than its cooldown.
      const last = entra.fetches.at(-1)?.getTime() ?? 0;
      await new Promise((r) => setTimeout(r, Math.max(0, last + REFETCH_COOLDOWN_MS + 300 - Date.now())));
      const before = entra.fetches.length;
      const r = await enrollWith(await mint('mdm@contoso.com', { kid: newKid }), 'Full', 'mdm@contoso.com');
      expect(r.store).toBe('User');
      expect(entra.fetches.length).toBeGreaterThan(before);
      // The retired key is gone from the set the server holds now.
      const err = await enrollmentFailure(enrollWith(await mint('mdm@contoso.com', { kid: oldKid }), 'Full', 'mdm@contoso.com'));
      expect(err.faultSubcode).toMatch(/(^|:)Authentication$/);
    },
    30_000,
  );

  run(
    'an unreachable or silent JWKS URL gives the device an explicit fault, and the server goes on',
    async () => {
      // Nothing listens on the port of a closed loopback server.
      const { createServer } = await import('node:net');
      const probe = createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
      const deadPort = (probe.address() as { port: number }).port;
      await new Promise<void>((r) => probe.close(() => r()));
      await connect(DOWN_TID, `http://127.0.0.1:${deadPort}/keys`);
      await connect(SILENT_TID, entra.hangingUrl);

      const down = await enrollmentFailure(enrollWith(await mint('mdm@contoso.com', { tid: DOWN_TID }), 'Full', 'mdm@contoso.com'));
      expect(down.step).toBe('policy');
      expect(down.faultSubcode).toMatch(/(^|:)EnrollmentServer$/);
      expect(down.message).toMatch(/could not reach your organisation's directory/);

      const started = Date.now();
      const silent = await enrollmentFailure(enrollWith(await mint('mdm@contoso.com', { tid: SILENT_TID }), 'Full', 'mdm@contoso.com'));
      expect(silent.faultSubcode).toMatch(/(^|:)EnrollmentServer$/);
      // The fetch timed out (5 s), it did not hang the request.
      expect(Date.now() - started).toBeLessThan(15_000);
      const attempts = await srv().server.storage.listEnrollmentAttempts({ limit: 20 });
      const attempt = attempts.find((a) => a.traceId === silent.traceId);
      expect(attempt).toMatchObject({ outcome: 'refused', subcode: 'EnrollmentServer' });
      expect(attempt?.reasons.join('\n')).toMatch(new RegExp(`signing keys of tenant ${SILENT_TID} could not be fetched`));

      // The server still enrolls through the working tenant.
      expect((await enrollWith(await mint('mdm@contoso.com'), 'Full', 'mdm@contoso.com')).store).toBe('User');
    },
    30_000,
  );

  run('the API lists, shows, connects (idempotent, audited) and disconnects tenants; readonly admins read', async () => {
    const admin = sessions.administrator;
    const list = await call('GET', '/entra/tenants', sessions.readonly);
    expect(list.status, list.text).toBe(200);
    expect(list.json.items.map((x: { tenantId: string }) => x.tenantId)).toContain(TID);
    expect(list.text).not.toMatch(/"n":/);
    expect((await call('GET', `/entra/tenants/${TID}`, sessions.readonly)).json).toMatchObject({ tenantId: TID, clientId: CLIENT_ID });

    const body = { clientId: CLIENT_ID, jwksUrl: entra.jwksUrl };
    expect((await call('PUT', `/entra/tenants/${STRANGER_TID}`, { ...sessions.helpdesk, body })).status).toBe(403);
    const put = await call('PUT', `/entra/tenants/${STRANGER_TID}`, { ...admin, body });
    expect(put.status, put.text).toBe(200);
    expect(put.json).toMatchObject({ tenantId: STRANGER_TID, changed: true });
    expect((await call('PUT', `/entra/tenants/${STRANGER_TID}`, { ...admin, body })).json).toMatchObject({ changed: false });
    const bad = await call('PUT', `/entra/tenants/${STRANGER_TID}`, {
      ...admin,
      body: { clientId: CLIENT_ID, jwksUrl: 'http://example.com/keys' },
    });
    expect(bad.status).toBe(422);
    expect(bad.json.detail).toMatch(/https/);

    // The newly connected tenant's tokens are accepted at once (for a user not linked to another tenant's object).
    expect((await enrollWith(await mint('nooid@contoso.com', { tid: STRANGER_TID }), 'Full', 'nooid@contoso.com')).store).toBe('User');

    expect((await call('DELETE', `/entra/tenants/${STRANGER_TID}`, { ...admin })).status).toBe(204);
    expect((await call('DELETE', `/entra/tenants/${STRANGER_TID}`, { ...admin })).status).toBe(404);
    const refused = await enrollmentFailure(
      enrollWith(await mint('nooid@contoso.com', { tid: STRANGER_TID }), 'Full', 'nooid@contoso.com'),
    );
    expect(refused.message).toMatch(new RegExp(`tenant ${STRANGER_TID}`));

    const audit = await call('GET', '/audit?limit=200', sessions.readonly);
    const actions = audit.json.items
      .filter((e: { targetId: string }) => e.targetId === STRANGER_TID)
      .map((e: { action: string }) => e.action);
    // Two changes (the idempotent repeat wrote nothing), each by the administrator.
    expect(actions.sort()).toEqual(['entra.tenant.connect', 'entra.tenant.disconnect']);

    const doc = await call('GET', '/openapi.json');
    for (const op of ['listEntraTenants', 'connectEntraTenant', 'disconnectEntraTenant', 'getEntraMobilityUrls', 'getDeviceHistory'])
      expect(doc.text).toContain(`"${op}"`);
  });

  run('winroll entra urls and GET /entra/urls give the Mobility values and the steps', async () => {
    const api = await call('GET', '/entra/urls', sessions.readonly);
    expect(api.status, api.text).toBe(200);
    expect(api.json).toMatchObject({
      applicationIdUri: srv().base,
      mdm: {
        discoveryUrl: `${srv().base}/EnrollmentServer/Discovery.svc`,
        termsOfUseUrl: `${srv().base}/EnrollmentServer/TermsOfUse`,
        complianceUrl: `${srv().base}/compliance`,
      },
      mam: { enrollmentUrl: `${srv().base}/EnrollmentServer/MAM/Enrollment.svc` },
    });
    expect(api.json.steps.length).toBeGreaterThanOrEqual(6);
    expect(api.json.steps.join('\n')).toMatch(/Application ID URI/);

    const port = new URL(srv().base).port;
    const cli = await winroll(['entra', 'urls', '--public-host', 'localhost', '--port', port, '--json', ...cliData()]);
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toEqual(api.json);
    const text = await winroll(['entra', 'urls', '--public-host', 'mdm.contoso.com', '--port', '443', ...cliData()]);
    expect(text.stdout).toContain('MDM discovery URL      https://mdm.contoso.com/EnrollmentServer/Discovery.svc');
    expect(text.stdout).toMatch(/^ {2}1\. /m);
  });
});
