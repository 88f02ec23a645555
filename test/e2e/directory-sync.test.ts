/**
 * Entra ID directory sync through Microsoft Graph delta queries, against a local Graph stand-in on
 * loopback (test/support/graph-stand-in.ts): the tenant is connected with `winroll entra connect
 * --graph-url --token-url --client-secret-file --graph-ca-file`; the first `winroll entra sync` is a full
 * read (paged), later runs fetch only changes through the stored delta links. Synced users enroll with
 * real Entra tokens, and the enrollment decision follows their enabled state and (nested) groups.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { generateDeviceKey, newSimulatedDevice } from '../../src/simulator/device.js';
import { EnrollmentFailed, enroll } from '../../src/simulator/enroll.js';
import { type Creds, apiClient } from '../support/api-client.js';
import { type GraphStandIn, startGraphStandIn } from '../support/graph-stand-in.js';
import { grantAdmin } from '../support/admins.js';
import { dataFlags, winroll } from '../support/cli.js';
import { type TenantKey, entraConnect, jwksOf, mintEntraToken, newTenantKey } from '../support/entra.js';
import { ENGINES, type TestServer, itOn, startTestServer } from '../support/server.js';

const KEY = generateDeviceKey();
const TID = '5b6f1c1e-0d1a-4d53-9a5e-2f1f1c0de001';
const CLIENT_ID = '0a1b2c3d-0000-4000-8000-00000000c0de';
const SECRET = 'stand-in secret value ~ 42';
const PW = 'local password 123';

const ID = {
  alice: '10000000-0000-4000-8000-000000000001',
  bob: '10000000-0000-4000-8000-000000000002',
  carol: '10000000-0000-4000-8000-000000000003',
  dave: '10000000-0000-4000-8000-000000000004',
  staff: '20000000-0000-4000-8000-000000000001',
  engineering: '20000000-0000-4000-8000-000000000002',
  sales: '20000000-0000-4000-8000-000000000003',
};

describe.each(ENGINES)('directory sync from Entra ID through Graph (%s)', (engine) => {
  let t: TestServer | undefined;
  let graph: GraphStandIn;
  let tenantKey: TenantKey;
  let admin: Creds = {};
  const run = itOn(engine);
  const srv = () => t as TestServer;
  const s = () => srv().server.storage;
  const { call, signIn } = apiClient(srv);
  const cliData = () => dataFlags(srv());
  const files = { jwks: '', secret: '', wrongSecret: '', ca: '' };

  /** oid is the user's Graph object id, as in real tokens (Winroll links a user to it on first use). */
  const mint = (upn: string, oid: string) => mintEntraToken(upn, { tid: TID, aud: srv().base, key: tenantKey.privateKey, oid });
  /** A directory join (corporate, Device) with an Entra token, as Windows does it after the ToU page. */
  const join = async (upn: string, oid: string) =>
    enroll({
      server: srv().base,
      upn,
      password: '',
      directoryToken: await mint(upn, oid),
      device: newSimulatedDevice(KEY),
      agent: srv().agent,
      enrollmentType: 'Device',
    });
  const refused = async (upn: string, oid: string): Promise<EnrollmentFailed> => {
    const err = await join(upn, oid).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(EnrollmentFailed);
    return err as EnrollmentFailed;
  };
  const sync = () => winroll(['entra', 'sync', '--json', ...cliData()]);
  const groupId = async (name: string) => (await s().getGroupByName(name))?.id as string;
  const groupNamesOf = async (upn: string) => {
    const user = await s().getUserByUpn(upn);
    const ids = await s().groupsOfUser(user?.id as string);
    const names = new Map((await s().listGroups()).map((g) => [g.id, g.name]));
    return ids.map((id) => names.get(id)).sort();
  };

  beforeAll(async () => {
    t = await startTestServer(engine);
    if (!t) return;
    graph = await startGraphStandIn({ tenantId: TID, clientId: CLIENT_ID, clientSecret: SECRET, pageSize: 2 });
    await t.addDomain('contoso.com', 'Federated');
    // Dave exists locally (with a password and an admin role) before the sync links him.
    await t.addUser('dave@contoso.com', PW);
    await grantAdmin(t, 'dave@contoso.com', 'administrator');

    graph.setUser({ id: ID.alice, userPrincipalName: 'Alice@contoso.com', displayName: 'Alice', accountEnabled: true });
    graph.setUser({ id: ID.bob, userPrincipalName: 'bob@contoso.com', displayName: 'Bob', accountEnabled: true });
    graph.setUser({ id: ID.carol, userPrincipalName: 'carol@contoso.com', displayName: 'Carol', accountEnabled: true });
    graph.setUser({ id: ID.dave, userPrincipalName: 'dave@contoso.com', displayName: 'Dave (Entra)', accountEnabled: true });
    // "Winroll Staff" holds the group Engineering (nested), which holds Alice and Bob.
    graph.setGroup(ID.staff, 'Winroll Staff');
    graph.setGroup(ID.engineering, 'Engineering');
    graph.setGroup(ID.sales, 'Sales');
    graph.addMember(ID.staff, { type: 'group', id: ID.engineering });
    graph.addMember(ID.engineering, { type: 'user', id: ID.alice });
    graph.addMember(ID.engineering, { type: 'user', id: ID.bob });
    graph.addMember(ID.sales, { type: 'user', id: ID.carol });
    graph.addMember(ID.sales, { type: 'user', id: ID.dave });

    tenantKey = await newTenantKey();
    files.jwks = path.join(t.dataDir, 'tenant-keys.json');
    files.secret = path.join(t.dataDir, 'graph-secret.txt');
    files.wrongSecret = path.join(t.dataDir, 'wrong-secret.txt');
    files.ca = path.join(t.dataDir, 'graph-ca.pem');
    await writeFile(files.jwks, jwksOf(tenantKey));
    await writeFile(files.secret, `${SECRET}\n`);
    await writeFile(files.wrongSecret, 'not the secret\n');
    await writeFile(files.ca, graph.caPem);
  }, 120_000);
  afterAll(async () => {
    await t?.stop();
    await graph?.stop();
  });

  run('connect with a Graph URL and client secret file: the secret is stored sealed, never printed', async () => {
    const r = await winroll([
      'entra',
      'connect',
      '--tenant-id',
      TID,
      '--client-id',
      CLIENT_ID,
      '--jwks-file',
      files.jwks,
      '--graph-url',
      graph.graphUrl,
      '--token-url',
      graph.tokenUrl,
      '--client-secret-file',
      files.secret,
      '--graph-ca-file',
      files.ca,
      '--json',
      ...cliData(),
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).sync).toMatchObject({
      graphUrl: graph.graphUrl,
      tokenUrl: graph.tokenUrl,
      customCa: true,
      incremental: false,
    });
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    const stored = await s().getEntraSyncConfig(TID);
    expect(stored?.clientSecretSealed).toMatch(/^v1\./);
    expect(stored?.clientSecretSealed).not.toContain(SECRET);
  });

  run(
    'the first sync reads everything (paged) and creates users, groups and nesting; a local user with the same UPN is linked',
    async () => {
      graph.throttle(1); // one 429 with Retry-After: retried, not a failure
      const r = await sync();
      expect(r.code, r.stderr).toBe(0);
      const [report] = JSON.parse(r.stdout);
      expect(report).toMatchObject({
        tenantId: TID,
        status: 'succeeded',
        mode: 'full',
        counts: { usersCreated: 3, usersLinked: 1, groupsCreated: 3, membersAdded: 5, skipped: 0 },
      });
      // Paged: 4 users and 3 groups in pages of 2: the second page of each came through its nextLink.
      expect(graph.requests.filter((x) => x.includes('$skiptoken')).length).toBeGreaterThanOrEqual(2);

      const alice = await s().getUserByUpn('alice@contoso.com');
      expect(alice).toMatchObject({ displayName: 'Alice', enabled: true });
      expect(await s().getIdentity('user', alice?.id as string)).toMatchObject({
        source: `entra:${TID}`,
        externalId: ID.alice,
        linkedLocal: false,
      });
      expect(await groupNamesOf('alice@contoso.com')).toEqual(['Engineering', 'Winroll Staff']);
      // Dave: one user, linked; his local password still signs in.
      const dave = await s().getUserByUpn('dave@contoso.com');
      expect(await s().getIdentity('user', dave?.id as string)).toMatchObject({ linkedLocal: true, externalId: ID.dave });
      expect(dave?.displayName).toBe('Dave (Entra)');
      expect((await srv().directory.signIn('dave@contoso.com', PW)).ok).toBe(true);
      expect((await s().listUsers()).filter((u) => u.upn === 'dave@contoso.com')).toHaveLength(1);
      // Synced users have no usable password.
      expect(await srv().directory.signIn('alice@contoso.com', '')).toMatchObject({ ok: false });
    },
  );

  run('a synced user in a licensed group in the MDM scope enrolls with a directory token', async () => {
    for (const upn of ['alice@contoso.com', 'bob@contoso.com', 'carol@contoso.com'])
      await s().assignLicense((await s().getUserByUpn(upn))?.id as string, new Date());
    const settings = await s().getTenantSettings();
    await s().saveTenantSettings({ ...settings, mdmScope: { mode: 'some', groupIds: [await groupId('Winroll Staff')] } }, new Date());
    const enrolled = await join('alice@contoso.com', ID.alice);
    expect(enrolled.store).toBe('System');
    await join('bob@contoso.com', ID.bob);
    // Carol is licensed but only in Sales: outside the MDM scope.
    const err = await refused('carol@contoso.com', ID.carol);
    expect(err.faultSubcode).toMatch(/Authorization$/);
  });

  run('an incremental run applies a rename, a disable, a membership removal and a deleted user (API trigger)', async () => {
    const bobId = (await s().getUserByUpn('bob@contoso.com'))?.id;
    const aliceDevices = (await s().listDevices()).filter((d) => d.upn === 'alice@contoso.com');
    expect(aliceDevices).toHaveLength(1);
    const before = graph.requests.length;

    graph.setUser({ id: ID.bob, userPrincipalName: 'robert@contoso.com', displayName: 'Robert', accountEnabled: true });
    graph.setUser({ id: ID.alice, userPrincipalName: 'alice@contoso.com', displayName: 'Alice', accountEnabled: false });
    graph.removeMember(ID.engineering, { type: 'user', id: ID.bob });
    graph.removeUser(ID.carol);
    graph.setGroup(ID.sales, 'Sales EMEA');

    const session = await signIn('dave@contoso.com', PW);
    expect(session.res.status, session.res.text).toBe(201);
    admin = { cookie: session.cookie, csrf: session.csrf };
    const res = await call('POST', `/entra/tenants/${TID}/sync`, admin);
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({
      status: 'succeeded',
      mode: 'incremental',
      counts: { usersUpdated: 2, usersRemoved: 1, groupsUpdated: 1, membersRemoved: 1, usersCreated: 0, groupsCreated: 0 },
    });
    // Only the delta links were read, not the whole directory again.
    expect(graph.requests.slice(before).some((x) => x.includes('$deltatoken'))).toBe(true);

    const robert = await s().getUserByUpn('robert@contoso.com');
    expect(robert).toMatchObject({ id: bobId, displayName: 'Robert', enabled: true });
    expect(await s().getUserByUpn('bob@contoso.com')).toBeUndefined();
    expect(await groupNamesOf('robert@contoso.com')).toEqual([]);
    expect((await s().getUserByUpn('alice@contoso.com'))?.enabled).toBe(false);
    const carol = await s().getUserByUpn('carol@contoso.com');
    expect(carol?.enabled).toBe(false);
    expect((await s().getIdentity('user', carol?.id as string))?.deletedAt).toBeInstanceOf(Date);
    expect(await groupNamesOf('carol@contoso.com')).toEqual([]);
    expect(await groupNamesOf('dave@contoso.com')).toEqual(['Sales EMEA']);
    // Existing devices stay enrolled.
    expect((await s().listDevices()).find((d) => d.id === aliceDevices[0]?.id)?.status).toBe('enrolled');

    // The enrollment decision follows at once: disabled → refused; out of the nested group → out of scope.
    await refused('alice@contoso.com', ID.alice);
    await refused('robert@contoso.com', ID.bob);
    const attempts = await s().listEnrollmentAttempts({ limit: 5, outcome: 'refused' });
    expect(attempts.find((a) => a.upn === 'alice@contoso.com')?.reasons.join('\n')).toMatch(/is disabled/);
    expect(attempts.find((a) => a.upn === 'robert@contoso.com')?.reasons.join('\n')).toMatch(/neither the MDM nor the MAM user scope/);

    const status = await call('GET', '/entra/sync', admin);
    expect(status.json.items[0]).toMatchObject({ tenantId: TID, lastStatus: 'succeeded', incremental: true });
    expect(status.text).not.toContain(SECRET);
    const audit = await call('GET', '/audit?limit=50', admin);
    expect(audit.json.items.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['entra.sync', 'entra.sync_configure']),
    );
  });

  run('a run with nothing new changes nothing', async () => {
    const r = await sync();
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)[0]).toMatchObject({ mode: 'incremental', counts: { usersUpdated: 0, membersAdded: 0, membersRemoved: 0 } });
  });

  run('a wrong client secret: one line naming the cause, exit code 1, the delta links kept', async () => {
    await entraConnect(srv(), TID, CLIENT_ID, ['--jwks-file', files.jwks, '--client-secret-file', files.wrongSecret]);
    const r = await sync();
    expect(r.code).not.toBe(0);
    const lines = r.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^winroll: sync of tenant .* failed: the token endpoint refused the client credentials .*invalid_client/);
    expect(r.stderr).not.toContain('not the secret');
    const st = await winroll(['entra', 'sync', '--status', '--json', ...cliData()]);
    expect(JSON.parse(st.stdout)[0]).toMatchObject({ lastStatus: 'failed', incremental: true });
    expect(JSON.parse(st.stdout)[0].lastError).toMatch(/invalid_client/);
  });
});
