/**
 * Automatic enrollment through the real endpoints (protocol.md §3.3): a device brings an Entra ID access
 * token (a JWT BinarySecurityToken) from a connected tenant, and the MDM/MAM user scopes decide, cell by
 * cell as in test/policy/decide.test.ts: (MDM only / MAM only / both / neither) × (personal = add work
 * account, Full; corporate = directory join, Device). Tokens are minted here with a key pair whose public
 * JWKS is connected through `winroll entra connect --jwks-file`.
 */
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { CryptoKey, JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { generateDeviceKey, newSimulatedDevice } from '../../src/simulator/device.js';
import { enroll } from '../../src/simulator/enroll.js';
import { type TenantKey, enrollmentFailure, entraConnect, jwksOf, mintEntraToken, newTenantKey, setUserScopes } from '../support/entra.js';
import { dataFlags, winroll } from '../support/cli.js';
import { ENGINES, type TestServer, startTestServer, itOn } from '../support/server.js';

const KEY = generateDeviceKey();
const TID = '72f988bf-86f1-41af-91ab-2d7cd011db47';
const OTHER_TID = '11111111-2222-3333-4444-555555555555';
const CLIENT_ID = '0000000a-0000-0000-c000-000000000000';

const membership = { 'MDM only': ['mdm'], 'MAM only': ['mam'], both: ['mdm', 'mam'], neither: [] as string[] } as const;
const users: Record<keyof typeof membership, string> = {
  'MDM only': 'mdmonly@contoso.com',
  'MAM only': 'mamonly@contoso.com',
  both: 'both@contoso.com',
  neither: 'neither@contoso.com',
};
const expected: Record<string, Record<'personal' | 'corporate', 'mdm' | 'mam' | 'refused'>> = {
  'MDM only': { personal: 'mdm', corporate: 'mdm' },
  'MAM only': { personal: 'mam', corporate: 'mam' },
  both: { personal: 'mam', corporate: 'mdm' },
  neither: { personal: 'refused', corporate: 'refused' },
};
const automatic = { personal: 'Full', corporate: 'Device' } as const;

describe.each(ENGINES)('automatic enrollment with directory tokens (%s)', (engine) => {
  let t: TestServer | undefined;
  const run = itOn(engine);
  const srv = () => t as TestServer;
  const cliData = () => dataFlags(srv());
  const groups: Record<string, string> = {};
  let tenantKey: TenantKey;
  let strangerKey: CryptoKey;

  /** A v1 token (aud = our URL, sts.windows.net issuer) unless told otherwise. */
  const mint = (
    upn: string,
    o: { v2?: boolean; tid?: string; aud?: string; expSeconds?: number; key?: CryptoKey; extra?: JWTPayload } = {},
  ) =>
    mintEntraToken(upn, {
      tid: o.tid ?? TID,
      aud: o.aud ?? (o.v2 ? CLIENT_ID : srv().base),
      key: o.key ?? tenantKey.privateKey,
      v2: o.v2,
      expSeconds: o.expSeconds,
      extra: { scp: 'mdm_delegation', ...o.extra },
    });
  const enrollWith = (token: string, type: 'Full' | 'Device', upn = 'someone@contoso.com') => {
    const device = newSimulatedDevice(KEY);
    return {
      device,
      result: enroll({ server: srv().base, upn, password: '', directoryToken: token, device, agent: srv().agent, enrollmentType: type }),
    };
  };
  const attemptOf = async (traceId: string | undefined) => {
    const list = await srv().server.storage.listEnrollmentAttempts({ limit: 20 });
    return list.find((a) => a.traceId === traceId);
  };

  beforeAll(async () => {
    t = await startTestServer(engine);
    if (!t) return;
    await t.addDomain('contoso.com', 'Federated');
    const s = t.server.storage;
    for (const g of ['mdm', 'mam', 'late']) groups[g] = (await s.addGroup({ name: g, now: new Date() })).id;
    for (const [cell, upn] of Object.entries(users)) {
      await t.addUser(upn, 'unused password 123');
      const user = await s.getUserByUpn(upn);
      for (const g of membership[cell as keyof typeof membership]) await s.addGroupMember(groups[g] as string, user?.id as string);
    }
    await t.addUser('late@contoso.com', 'unused password 123');
    await s.addGroupMember(groups.late as string, (await s.getUserByUpn('late@contoso.com'))?.id as string);
    await setUserScopes(t, { mdm: [groups.mdm as string], mam: [groups.mam as string] });

    tenantKey = await newTenantKey();
    strangerKey = (await newTenantKey()).privateKey;
    const jwksFile = path.join(t.dataDir, 'tenant-keys.json');
    await writeFile(jwksFile, jwksOf(tenantKey));
    expect(await entraConnect(srv(), TID, CLIENT_ID, ['--jwks-file', jwksFile])).toMatchObject({
      tenantId: TID,
      clientId: CLIENT_ID,
      issuers: [`https://sts.windows.net/${TID}/`, `https://login.microsoftonline.com/${TID}/v2.0`],
      keys: { stored: 1 },
    });
  });
  afterAll(async () => {
    await t?.stop();
  });

  for (const cell of Object.keys(membership) as Array<keyof typeof membership>) {
    for (const own of ['personal', 'corporate'] as const) {
      const outcome = expected[cell]?.[own];
      run(`user in ${cell}, ${own} device (${automatic[own]}) → ${outcome}`, async () => {
        const upn = users[cell];
        // Alternate v1 (aud = our URL) and v2 (aud = client id) tokens across the table.
        const token = await mint(upn, { v2: own === 'corporate' });
        const { device, result } = enrollWith(token, automatic[own], upn);
        if (outcome === 'mdm') {
          const r = await result;
          expect(r.store).toBe(own === 'personal' ? 'User' : 'System');
        } else {
          const err = await enrollmentFailure(result);
          expect(err.step).toBe('enroll');
          if (outcome === 'mam') {
            expect(err.faultErrorType).toBe('NotSupported');
            expect(err.hresult).toBe(0x80180015);
          } else {
            expect(err.faultSubcode).toMatch(/(^|:)Authorization$/);
            expect(err.faultErrorType).toBeUndefined();
            expect(err.hresult).toBe(0x80180003);
          }
        }
        const [logged] = await srv().server.storage.listEnrollmentAttempts({ limit: 1, deviceId: device.deviceId });
        expect(logged).toMatchObject({ outcome, ownership: own, method: 'automatic', upn, enrollmentType: automatic[own] });
        const reasons = logged?.reasons.join('\n') ?? '';
        expect(reasons).toMatch(/MDM user scope Some \(1 group\)/);
        if (cell === 'both') expect(reasons).toMatch(own === 'personal' ? /MAM takes precedence/ : /MDM takes precedence/);
        if (cell === 'MAM only') expect(reasons).toMatch(/in the MAM scope only/);
        if (cell === 'neither') expect(reasons).toMatch(/neither the MDM nor the MAM user scope/);
        expect(reasons).toMatch(own === 'personal' ? /adding a work account is personal/ : /directory join is corporate/);
      });
    }
  }

  run('the token is never logged', async () => {
    const token = await mint(users['MDM only'], { extra: { marker: 'do-not-log-me' } });
    await enrollWith(token, 'Full', users['MDM only']).result;
    const logs = srv().logs.join('\n');
    expect(logs).not.toContain(token);
    expect(logs).not.toContain(token.split('.')[1] as string);
    expect(logs).not.toContain('do-not-log-me');
  });

  const refusals: Array<[string, () => Promise<string>, RegExp]> = [
    [
      'a tenant that is not connected',
      () => mint(users['MDM only'], { tid: OTHER_TID }),
      new RegExp(`tenant ${OTHER_TID} is not connected`),
    ],
    ['the wrong audience', () => mint(users['MDM only'], { aud: 'https://elsewhere.example.com' }), /aud/],
    ['a v2 token for another app', () => mint(users['MDM only'], { v2: true, aud: '99999999-0000-0000-0000-000000000000' }), /aud/],
    ['an expired token (beyond the 5 minute tolerance)', () => mint(users['MDM only'], { expSeconds: -400 }), /exp/],
    ['a bad signature', () => mint(users['MDM only'], { key: strangerKey }), /signature/],
    ['a user who is not in the directory', () => mint('ghost@contoso.com'), /ghost@contoso.com is not a directory user/],
  ];
  for (const [what, token, detail] of refusals) {
    run(`refuses ${what}: Authentication fault at GetPolicies`, async () => {
      const err = await enrollmentFailure(enrollWith(await token(), 'Full').result);
      expect(err.step).toBe('policy');
      expect(err.faultSubcode).toMatch(/(^|:)Authentication$/);
      expect(err.hresult).toBe(0x80180002);
      const logged = await attemptOf(err.traceId);
      expect(logged).toMatchObject({ outcome: 'refused', method: 'automatic', subcode: 'Authentication' });
      expect(logged?.reasons.join('\n')).toMatch(detail);
    });
  }

  run('accepts a token that expired within the clock tolerance', async () => {
    const r = await enrollWith(await mint(users['MDM only'], { expSeconds: -120 }), 'Device', users['MDM only']).result;
    expect(r.store).toBe('System');
  });

  run('a scope change takes effect on the next enrollment, without a restart', async () => {
    const upn = 'late@contoso.com';
    const first = await enrollmentFailure(enrollWith(await mint(upn), 'Device', upn).result);
    expect(first.hresult).toBe(0x80180003);
    const s = srv().server.storage;
    const settings = await s.getTenantSettings();
    await s.saveTenantSettings(
      { ...settings, mdmScope: { mode: 'some', groupIds: [...settings.mdmScope.groupIds, groups.late as string] } },
      new Date(),
    );
    const { device, result } = enrollWith(await mint(upn), 'Device', upn);
    expect((await result).store).toBe('System');
    const [logged] = await s.listEnrollmentAttempts({ limit: 1, deviceId: device.deviceId });
    expect(logged).toMatchObject({ outcome: 'mdm', ownership: 'corporate', method: 'automatic' });
  });

  run('winroll entra list and disconnect; a disconnected tenant is refused', async () => {
    const listed = await winroll(['entra', 'list', '--json', ...cliData()]);
    expect(listed.code, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout)).toEqual([expect.objectContaining({ tenantId: TID })]);
    const bad = await winroll([
      'entra',
      'connect',
      '--tenant-id',
      'nope',
      '--client-id',
      CLIENT_ID,
      '--jwks-url',
      'https://x',
      ...cliData(),
    ]);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/tenant id must be a GUID/);
    const off = await winroll(['entra', 'disconnect', TID, '--json', ...cliData()]);
    expect(off.code, off.stderr).toBe(0);
    const err = await enrollmentFailure(enrollWith(await mint(users['MDM only']), 'Full').result);
    expect(err.hresult).toBe(0x80180002);
    const again = await winroll(['entra', 'disconnect', TID, ...cliData()]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/not connected/);
  });
});
