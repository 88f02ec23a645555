/**
 * Compliance end to end, on SQLite and PostgreSQL: a simulated PC enrolls over real TLS and reports its
 * DeviceStatus/Defender state in management sessions; rules set through the admin API decide compliant or
 * noncompliant with reasons; the compliance page shows it to the user (Entra bearer token or password);
 * rule changes re-evaluate; the directory write-back PATCHes a loopback HTTPS Graph stand-in (its own root,
 * trusted only through the tenant's Graph connection, `--graph-ca-file`) once per change.
 */
import { oidFor } from '../support/entra-stand-in.js';
import { randomUUID } from 'node:crypto';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { type CryptoKey, SignJWT, exportJWK, generateKeyPair } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AdminAccounts } from '../../src/core/admin/accounts.js';
import { CLI_CONTEXT } from '../../src/core/admin/audit.js';
import { buildDirectorySync, graphAccess } from '../../src/app/directory-sync.js';
import { ComplianceService } from '../../src/core/compliance/service.js';
import { DirectoryService } from '../../src/core/directory/directory-service.js';
import type { EntraSync } from '../../src/core/directory-sync/entra-sync.js';
import { GraphComplianceWriter } from '../../src/graph/compliance-writer.js';
import { CertificateAuthority } from '../../src/pki/authority.js';
import { createRootCa } from '../../src/pki/ca.js';
import type { Clock } from '../../src/shared/clock.js';
import { healthySecurityState } from '../../src/simulator/device.js';
import { type HttpResponse, request } from '../../src/simulator/https-client.js';
import { apiClient } from '../support/api-client.js';
import { enrollPc } from '../support/managed-device.js';
import { ENGINES, type TestServer, itOn, startTestServer } from '../support/server.js';

const PW = 'correct horse battery 9';
const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const CLIENT_ID = '0000000a-0000-0000-c000-000000000000';
/** Tenants whose Graph connection points at the stand-in; write-back is never enabled for them (see writeBack). */
const CA_TID = '6e2a4d3b-9f5c-4d7e-8b80-1c2d3e4f5061';
const SECRET = 'graph-app-secret';
const HOUR = 3600_000;

function offsetClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return {
    now: () => new Date(Date.now() + offset),
    advance: (ms) => {
      offset += ms;
    },
  };
}

/**
 * A Graph stand-in on loopback over HTTPS, its leaf signed by its own root (trusted by nothing unless given):
 * the client-credentials token endpoint (`{base}/{tenant}/oauth2/v2.0/token`, issues `graph-app-token`)
 * and Graph, which records every request and answers with the queued statuses (then 204).
 */
async function graphStandIn() {
  const now = new Date();
  const root = await createRootCa({ commonName: 'Compliance Graph stand-in root', validityYears: 1, now });
  const leaf = await new CertificateAuthority(root).issueServerCertificate({
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    notBefore: new Date(now.getTime() - 60_000),
    notAfter: new Date(now.getTime() + 86400_000),
  });
  const calls: Array<{ method: string; url: string; authorization: string | undefined; body: unknown }> = [];
  const tokenRequests: string[] = [];
  const answers: number[] = [];
  const server = https.createServer({ cert: leaf.certPem, key: leaf.keyPem as string }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      if (req.method === 'POST' && /^\/[0-9a-f-]{36}\/oauth2\/v2\.0\/token$/.test(req.url ?? '')) {
        const form = new URLSearchParams(text);
        tokenRequests.push(req.url ?? '');
        const good = form.get('grant_type') === 'client_credentials' && form.get('client_secret') === SECRET;
        res.writeHead(good ? 200 : 401, { 'content-type': 'application/json' });
        return res.end(JSON.stringify(good ? { access_token: 'graph-app-token', expires_in: 3600 } : { error: 'invalid_client' }));
      }
      calls.push({
        method: req.method ?? '',
        url: req.url ?? '',
        authorization: req.headers.authorization,
        body: text ? JSON.parse(text) : undefined,
      });
      const status = answers.shift() ?? 204;
      if (status === 204) return res.writeHead(204).end();
      res.writeHead(status, { 'content-type': 'application/json', ...(status === 503 ? { 'retry-after': '0' } : {}) });
      res.end(
        JSON.stringify({
          error: { code: status === 404 ? 'Request_ResourceNotFound' : 'Authorization_RequestDenied', message: `stand-in ${status}` },
        }),
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    calls,
    tokenRequests,
    answers,
    base,
    caPem: root.certPem,
    tokenUrl: (tenantId: string) => `${base}/${tenantId}/oauth2/v2.0/token`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe.each(ENGINES)('compliance (%s)', (engine) => {
  let t: TestServer | undefined;
  let graph: Awaited<ReturnType<typeof graphStandIn>>;
  let signingKey: CryptoKey;
  let entra: EntraSync;
  let access: ReturnType<typeof graphAccess>;
  const clock = offsetClock();
  const run = itOn(engine);
  const srv = () => t as TestServer;
  const { call, signIn } = apiClient(srv);
  const admin = async () => {
    const s = await signIn('boss@contoso.com', PW);
    expect(s.res.status, s.res.text).toBe(201);
    return { cookie: s.cookie, csrf: s.csrf };
  };
  const mint = (upn: string) => {
    const now = Math.floor(clock.now().getTime() / 1000);
    return new SignJWT({ tid: TID, upn, oid: oidFor(upn) })
      .setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: 'JWT' })
      .setIssuer(`https://sts.windows.net/${TID}/`)
      .setAudience(srv().base)
      .setIssuedAt(now - 60)
      .setExpirationTime(now + 3600)
      .sign(signingKey);
  };
  const page = (opts: { bearer?: string; cookie?: string; form?: Record<string, string> } = {}): Promise<HttpResponse> =>
    request({
      method: opts.form ? 'POST' : 'GET',
      url: `${srv().base}/compliance`,
      headers: {
        ...(opts.bearer ? { authorization: `Bearer ${opts.bearer}` } : {}),
        ...(opts.cookie ? { cookie: opts.cookie } : {}),
        ...(opts.form ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
      },
      ...(opts.form ? { body: new URLSearchParams(opts.form).toString() } : {}),
      agent: srv().agent,
    });
  /** A second writer pass over the stored connection (the server's own loop writes in the background). */
  const writeBack = () =>
    new ComplianceService({
      storage: srv().server.storage,
      clock,
      writer: new GraphComplianceWriter({
        graphUrl: (tid) => access.graphUrl(tid),
        getToken: (tid) => access.getToken(tid),
        agent: (tid) => access.agent(tid),
        retryDelayMs: 10,
      }),
    }).processWriteBack();
  /** The server's own writer sends what a change made due; wait until the directory was told `value`. */
  const written = async (deviceId: string, creds: { cookie?: string | undefined; csrf?: string | undefined }, value: boolean) =>
    expect
      .poll(async () => (await call('GET', `/devices/${deviceId}/compliance`, creds)).json.writeBack.written, { timeout: 10_000 })
      .toBe(value);
  /** Points a tenant's Graph connection at the stand-in, as `winroll entra connect --graph-url --token-url` does. */
  const connectGraph = (tenantId: string, caPem: string | null) =>
    entra.configure(CLI_CONTEXT, {
      tenantId,
      graphUrl: `${graph.base}/v1.0`,
      tokenUrl: graph.tokenUrl(tenantId),
      clientSecret: SECRET,
      caPem,
    });

  beforeAll(async () => {
    graph = await graphStandIn();
    t = await startTestServer(engine, {}, {}, { clock });
    if (!t) return;
    await t.addDomain('contoso.com');
    await t.addUser('alice@contoso.com', PW);
    await t.addUser('bob@contoso.com', PW);
    await t.addUser('boss@contoso.com', PW);
    const accounts = new AdminAccounts({
      storage: t.server.storage,
      directory: new DirectoryService({ storage: t.server.storage, clock }),
      clock,
    });
    await accounts.add(CLI_CONTEXT, 'boss@contoso.com', 'administrator');
    const pair = await generateKeyPair('RS256', { extractable: true });
    signingKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    for (const tenantId of [TID, CA_TID])
      await t.server.storage.saveEntraTenant({
        tenantId,
        clientId: CLIENT_ID,
        issuers: [`https://sts.windows.net/${tenantId}/`],
        jwksJson: JSON.stringify({ keys: [jwk] }),
        jwksUrl: null,
        now: clock.now(),
      });
    // The same directory-sync parts the server builds over this data folder and database.
    entra = (await buildDirectorySync({ storage: t.server.storage, clock, dataDir: t.dataDir })).entra;
    access = graphAccess(entra);
    // The server's writer reaches the stand-in through TID's connection, trusting its root (--graph-ca-file).
    await connectGraph(TID, graph.caPem);
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    await graph?.close();
  });

  run('compliant, then noncompliant when the firewall goes off; the page, rule changes and write-back follow', async () => {
    const a = await admin();
    // Rules: minimum OS, BitLocker, firewall, Defender.
    const set = await call('PUT', '/compliance/rules', {
      ...a,
      body: {
        minOsVersion: '10.0.22631',
        requireEncryption: true,
        requireFirewall: true,
        requireAntivirus: true,
        requireAntivirusSignatures: true,
        requireRealTimeProtection: true,
      },
    });
    expect(set.status, set.text).toBe(200);
    expect(set.json.rules).toMatchObject({
      minOsVersion: '10.0.22631',
      requireFirewall: true,
      gracePeriodHours: 0,
      maxDaysWithoutCheckIn: 30,
    });
    const wb = await call('PUT', `/compliance/write-back/${TID}`, { ...a, body: { enabled: true } });
    expect(wb.status, wb.text).toBe(200);

    const entraDeviceId = randomUUID();
    const pc = await enrollPc(srv(), 'alice@contoso.com', PW, 'Full', { security: { ...healthySecurityState(), entraDeviceId } });
    // Before the first session nothing is known: unknown, never compliant.
    const before = await call('GET', `/devices/${pc.device.deviceId}/compliance`, a);
    expect(before.status, before.text).toBe(200);
    expect(before.json.state).toBe('unknown');

    await pc.checkIn();
    expect(pc.state.received).toContain('Get ./Vendor/MSFT/DeviceStatus/Firewall/Status');
    expect(pc.state.received).toContain('Get ./Vendor/MSFT/DMClient/Provider/Winroll/AADDeviceID');
    const good = await call('GET', `/devices/${pc.device.deviceId}/compliance`, a);
    expect(good.json.state, good.text).toBe('compliant');
    expect(good.json.rules.map((r: { status: string }) => r.status)).toEqual(good.json.rules.map(() => 'pass'));
    expect(good.json.writeBack).toMatchObject({ entraDeviceId, desired: true });

    // The server's writer tells Graph once; a second pass has nothing to say.
    await written(pc.device.deviceId, a, true);
    expect(await writeBack()).toBe(0);
    expect(graph.calls).toEqual([
      {
        method: 'PATCH',
        url: `/v1.0/devices(deviceId='${entraDeviceId}')`,
        authorization: 'Bearer graph-app-token',
        body: { isCompliant: true, isManaged: true },
      },
    ]);

    // The user turns the firewall off; the device reports it at its next inventory (8 hours on).
    pc.device.security.firewallStatus = 1;
    clock.advance(9 * HOUR);
    await pc.checkIn();
    const a2 = await admin();
    const bad = await call('GET', `/devices/${pc.device.deviceId}/compliance`, a2);
    expect(bad.json.state, bad.text).toBe('noncompliant');
    expect(bad.json.summary).toBe('noncompliant: the firewall is off');
    expect(bad.json.rules.find((r: { rule: string }) => r.rule === 'firewall')).toMatchObject({ status: 'fail', reported: 'off' });
    expect(bad.json.history.map((h: { state: string }) => h.state)).toEqual(['noncompliant', 'compliant', 'unknown']);

    // The compliance page Windows opens with the user's Entra token.
    const token = await mint('alice@contoso.com');
    const shown = await page({ bearer: token });
    expect(shown.status).toBe(200);
    const html = shown.body.toString('utf8');
    expect(html).toContain('Signed in as <strong>alice@contoso.com</strong>');
    expect(html).toContain('Does not meet your organisation’s requirements');
    expect(html).toContain('Firewall: needs fixing');
    expect(html).toContain('The firewall is off.');
    expect(html).toContain('Windows Security &gt; Firewall &amp; network protection');
    expect(html).toContain('Drive encryption (BitLocker): encrypted');
    expect(html).not.toContain(token);
    expect(html).not.toMatch(/<script|https?:\/\/(?!localhost)/);
    expect(String(shown.headers['content-security-policy'])).toContain("default-src 'none'");
    // Another user sees only their own (no) devices.
    const other = (await page({ bearer: await mint('bob@contoso.com') })).body.toString('utf8');
    expect(other).toContain('No device managed by');
    expect(other).not.toContain(pc.device.deviceName);

    await written(pc.device.deviceId, a2, false);
    expect(graph.calls.at(-1)?.body).toEqual({ isCompliant: false, isManaged: true });

    // Rules change: the firewall is no longer required, the device is compliant again at once.
    const relaxed = await call('PUT', '/compliance/rules', { ...a2, body: { requireFirewall: false } });
    expect(relaxed.status, relaxed.text).toBe(200);
    expect(relaxed.json).toMatchObject({ evaluated: 1, changed: 1 });
    const again = await call('GET', `/devices/${pc.device.deviceId}/compliance`, a2);
    expect(again.json.state).toBe('compliant');
    await written(pc.device.deviceId, a2, true);
    expect(graph.calls.map((c) => (c.body as { isCompliant: boolean }).isCompliant)).toEqual([true, false, true]);
    const shownWb = await call('GET', `/devices/${pc.device.deviceId}/compliance`, a2);
    expect(shownWb.json.writeBack).toMatchObject({ desired: true, written: true, tenantId: TID });
    expect(shownWb.json.writeBack.lastResult).toMatch(/^written: isCompliant=true in tenant .* \(HTTP 204\)$/);

    // Every change is audited.
    const audit = await call('GET', '/audit?limit=50', a2);
    const actions = (audit.json.items as Array<{ action: string }>).map((e) => e.action);
    expect(actions).toContain('compliance.set_rules');
    expect(actions).toContain('compliance.write_back.enable');
  });

  run("write-back trusts the CA of the tenant's Graph connection, and only it", async () => {
    const before = graph.calls.length;
    const device = { tenantId: CA_TID, entraDeviceId: randomUUID(), isCompliant: true, isManaged: true };
    const writer = new GraphComplianceWriter({
      graphUrl: (tid) => access.graphUrl(tid),
      getToken: (tid) => access.getToken(tid),
      agent: (tid) => access.agent(tid),
      retryDelayMs: 10,
    });
    // A tenant with write-back on but no Graph connection fails this device visibly, with what to do.
    const unconnected = await writer.writeCompliance({ ...device, tenantId: randomUUID() });
    expect(unconnected).toMatchObject({ ok: false, status: null, notFound: false });
    expect(unconnected.ok ? '' : unconnected.detail).toMatch(/no usable Graph connection for tenant .*winroll entra connect/);
    // Without --graph-ca-file the stand-in's root is trusted by nothing: the token request already fails.
    await connectGraph(CA_TID, null);
    const untrusted = await writer.writeCompliance(device);
    expect(untrusted).toMatchObject({ ok: false, status: null, notFound: false });
    const detail = untrusted.ok ? '' : untrusted.detail;
    expect(detail).toContain(`no Graph token for tenant ${CA_TID}`);
    expect(detail).toContain('the certificate is not trusted');
    expect(detail).toContain('--graph-ca-file');
    expect(graph.calls).toHaveLength(before);

    // With the root in the connection, token and PATCH go through the agent that trusts it.
    await connectGraph(CA_TID, graph.caPem);
    expect(await writer.writeCompliance(device)).toEqual({ ok: true, status: 204 });
    expect(graph.calls.slice(before)).toEqual([
      {
        method: 'PATCH',
        url: `/v1.0/devices(deviceId='${device.entraDeviceId}')`,
        authorization: 'Bearer graph-app-token',
        body: { isCompliant: true, isManaged: true },
      },
    ]);
    // The first try never reached the token endpoint: TLS stopped it.
    expect(graph.tokenRequests.filter((u) => u.startsWith(`/${CA_TID}/`))).toHaveLength(1);
  });

  run('refusals: bad rules are explained, only administrators change them, unknown tenants and devices', async () => {
    const a = await admin();
    const badVersion = await call('PUT', '/compliance/rules', { ...a, body: { minOsVersion: 'Windows 11' } });
    expect(badVersion.status).toBe(400);
    expect(badVersion.json.detail).toContain('minOsVersion');
    const inverted = await call('PUT', '/compliance/rules', { ...a, body: { minOsVersion: '10.0.26100', maxOsVersion: '10.0.22631' } });
    expect(inverted.status).toBe(422);
    expect(inverted.json.detail).toContain('lower than the minimum');
    const tenant = await call('PUT', '/compliance/write-back/11111111-2222-3333-4444-555555555555', { ...a, body: { enabled: true } });
    expect(tenant.status).toBe(404);
    expect(tenant.json.detail).toContain('is not connected');
    const device = await call('GET', '/devices/0123456789ABCDEF0123456789ABCDEF/compliance', a);
    expect(device.status).toBe(404);
    const anonymous = await call('GET', '/compliance/rules');
    expect(anonymous.status).toBe(401);
  });

  run('the page without a token: sign-in form, password sign-in with a cookie, wrong password, sign-out', async () => {
    const form = await page();
    expect(form.status).toBe(200);
    const html = form.body.toString('utf8');
    expect(html).toContain('<label for="username">Work account</label>');
    expect(html).toContain('autocomplete="current-password"');
    expect(form.headers['x-frame-options']).toBe('DENY');

    const wrong = await page({ form: { username: 'alice@contoso.com', password: 'not it at all' } });
    expect(wrong.body.toString('utf8')).toContain('That work account or password is incorrect.');
    expect(wrong.headers['set-cookie']).toBeUndefined();

    const ok = await page({ form: { username: 'alice@contoso.com', password: PW } });
    expect(ok.status).toBe(200);
    expect(ok.body.toString('utf8')).toContain('Signed in as <strong>alice@contoso.com</strong>');
    const cookie = String([ok.headers['set-cookie'] ?? []].flat()[0]);
    expect(cookie).toMatch(/^__Host-winroll_compliance=[^;]+; Path=\/; Secure; HttpOnly; SameSite=Lax; Max-Age=1800$/);
    const again = await page({ cookie: cookie.split(';')[0] as string });
    expect(again.body.toString('utf8')).toContain('Sign out');

    const out = await page({ cookie: cookie.split(';')[0] as string, form: { action: 'signout' } });
    expect(String([out.headers['set-cookie'] ?? []].flat()[0])).toContain('Max-Age=0');

    // A token from a tenant that is not connected is not trusted: the form, with a note.
    const forged = await page({ bearer: 'eyJhbGciOiJub25lIn0.eyJ0aWQiOiJ4In0.' });
    expect(forged.body.toString('utf8')).toContain('Your sign-in could not be confirmed');
  });
});

describe('GraphComplianceWriter against a loopback stand-in', () => {
  let graph: Awaited<ReturnType<typeof graphStandIn>>;
  beforeAll(async () => {
    graph = await graphStandIn();
    trusting = new https.Agent({ keepAlive: true, maxSockets: 2, ca: graph.caPem });
  });
  afterAll(async () => {
    trusting.destroy();
    await graph.close();
  });
  // The agent graphAccess builds from a connection holding the stand-in's root (keep-alive included).
  let trusting: https.Agent;
  const writer = (tokens: string[] = ['t1', 't2', 't3'], agent = trusting) =>
    new GraphComplianceWriter({
      graphUrl: () => `${graph.base}/v1.0/`,
      getToken: async () => tokens.shift() ?? 'tN',
      agent: () => agent,
      retryDelayMs: 5,
    });
  const input = { tenantId: TID, entraDeviceId: randomUUID(), isCompliant: false, isManaged: true };

  it('retries a 503 and succeeds; a 404 says the directory does not know the device', async () => {
    graph.calls.length = 0;
    graph.answers.push(503);
    expect(await writer().writeCompliance(input)).toEqual({ ok: true, status: 204 });
    expect(graph.calls).toHaveLength(2);
    graph.answers.push(404);
    const missing = await writer().writeCompliance(input);
    expect(missing).toMatchObject({ ok: false, status: 404, notFound: true });
    expect(missing.ok ? '' : missing.detail).toContain('Request_ResourceNotFound');
  });

  it('a refusal is not retried and its cause is kept, never the token; a 401 is retried once with a fresh token', async () => {
    graph.calls.length = 0;
    graph.answers.push(403);
    const refused = await writer(['secret-token']).writeCompliance(input);
    expect(refused).toMatchObject({ ok: false, status: 403, notFound: false });
    expect(refused.ok ? '' : refused.detail).toBe('Graph answered HTTP 403 (Authorization_RequestDenied: stand-in 403)');
    expect(JSON.stringify(refused)).not.toContain('secret-token');
    expect(graph.calls).toHaveLength(1);
    graph.calls.length = 0;
    graph.answers.push(401);
    expect(await writer(['old', 'new']).writeCompliance(input)).toEqual({ ok: true, status: 204 });
    expect(graph.calls.map((c) => c.authorization)).toEqual(['Bearer old', 'Bearer new']);
  });

  it("an agent without the stand-in's root fails at once, saying the certificate is not trusted", async () => {
    graph.calls.length = 0;
    const plain = new https.Agent();
    try {
      const r = await writer(['secret-token'], plain).writeCompliance(input);
      expect(r).toMatchObject({ ok: false, status: null, notFound: false });
      const detail = r.ok ? '' : r.detail;
      expect(detail).toContain(`Graph at ${graph.base} was not reached`);
      expect(detail).toContain('the certificate is not trusted');
      expect(detail).not.toContain('secret-token');
      // Not retried: asking again would not make the certificate trusted.
      expect(graph.calls).toHaveLength(0);
    } finally {
      plain.destroy();
    }
  });
});
