/**
 * WNS push against a local HTTPS stand-in for the token endpoint and the channel: devices are
 * registered with our PFN, report a channel, and an admin action wakes them with a raw notification.
 */
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_ID } from '../../src/core/enrollment/enrollment-service.js';
import { ManagementAdmin } from '../../src/core/management/admin.js';
import { CertificateAuthority } from '../../src/pki/authority.js';
import { createRootCa } from '../../src/pki/ca.js';
import { WnsClient } from '../../src/push/wns.js';
import { systemClock } from '../../src/shared/clock.js';
import { enrollPc } from '../support/managed-device.js';
import { type TestServer, startTestServer } from '../support/server.js';

const PW = 'correct horse battery';
const SID = 'S-1-15-2-1111111111-2222222222-3333333333-4444444444-5555555555-6666666666-7777777777';

interface Seen {
  tokens: URLSearchParams[];
  pushes: Array<{ path: string; headers: Record<string, string | string[] | undefined>; body: string }>;
}

describe('WNS push', () => {
  let t: TestServer;
  let standin: Server;
  let ca: string;
  let base: string;
  const seen: Seen = { tokens: [], pushes: [] };
  // What the channel answers next, per channel path.
  const script = new Map<string, number[]>();
  let tokenCounter = 0;

  beforeAll(async () => {
    const now = new Date();
    const root = await createRootCa({ commonName: 'WNS stand-in root', validityYears: 1, now });
    const leaf = await new CertificateAuthority(root).issueServerCertificate({
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      notBefore: now,
      notAfter: new Date(now.getTime() + 86400_000),
    });
    ca = root.certPem;
    standin = createServer({ cert: leaf.certPem, key: leaf.keyPem as string }, (req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        if (req.url === '/accesstoken.srf') {
          seen.tokens.push(new URLSearchParams(body));
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ access_token: `token-${++tokenCounter}`, token_type: 'bearer', expires_in: 86400 }));
          return;
        }
        seen.pushes.push({ path: req.url ?? '', headers: req.headers, body });
        const next = script.get(req.url ?? '')?.shift() ?? 200;
        res.writeHead(next).end();
      });
    });
    await new Promise<void>((r) => standin.listen(0, '127.0.0.1', r));
    base = `https://127.0.0.1:${(standin.address() as AddressInfo).port}`;
    t = (await startTestServer(
      'sqlite',
      { wnsPfn: 'Contoso.Winroll_8wekyb3d8bbwe', wnsPackageSid: SID },
      { WINROLL_WNS_CLIENT_SECRET: 'shh-secret' },
    )) as TestServer;
    await t.addDomain('contoso.com');
    await t.addUser('alice@contoso.com', PW);
  });
  afterAll(async () => {
    await t?.stop();
    standin?.close();
  });

  const admin = (wns?: WnsClient) =>
    new ManagementAdmin({ storage: t.server.storage, clock: systemClock, providerId: PROVIDER_ID, push: wns });
  const client = () =>
    new WnsClient({ packageSid: SID, clientSecret: 'shh-secret', tokenUrl: `${base}/accesstoken.srf`, channelHosts: ['127.0.0.1'], ca });

  it('registers the device for push and wakes it when an admin queues an action', async () => {
    const pc = await enrollPc(t, 'alice@contoso.com', PW);
    pc.state.pushChannelUri = `${base}/channel/${pc.device.deviceId}`;
    await pc.checkIn();
    expect(pc.state.received).toContain(`Replace ./Vendor/MSFT/DMClient/Provider/${PROVIDER_ID}/Push/PFN`);
    expect(pc.state.get(`./Vendor/MSFT/DMClient/Provider/${PROVIDER_ID}/Push/PFN`)).toBe('Contoso.Winroll_8wekyb3d8bbwe');
    expect(
      await t.server.storage.getPushChannel((await t.server.storage.getManagedDevice(pc.device.deviceId))?.device.id ?? ''),
    ).toMatchObject({ channelUri: pc.state.pushChannelUri, status: 0 });

    const wns = client();
    const queued = await admin(wns).queueAction(pc.device.deviceId, { kind: 'restart' });
    wns.close();
    expect(queued.push).toEqual({ ok: true });
    const token = seen.tokens.at(-1);
    expect(Object.fromEntries(token ?? [])).toEqual({
      grant_type: 'client_credentials',
      client_id: `ms-app://${SID}`,
      client_secret: 'shh-secret',
      scope: 'notify.windows.com',
    });
    const push = seen.pushes.at(-1);
    expect(push?.path).toBe(`/channel/${pc.device.deviceId}`);
    expect(push?.headers).toMatchObject({
      authorization: 'Bearer token-1',
      'x-wns-type': 'wns/raw',
      'content-type': 'application/octet-stream',
    });
    // The woken device checks in and reboots.
    await pc.checkIn({});
    expect(pc.state.reboots).toBe(1);
  });

  it('refreshes an expired token once, and forgets a channel WNS says is gone', async () => {
    const pc = await enrollPc(t, 'alice@contoso.com', PW);
    pc.state.pushChannelUri = `${base}/channel/${pc.device.deviceId}`;
    await pc.checkIn();
    script.set(`/channel/${pc.device.deviceId}`, [401, 200, 410]);
    const wns = client();
    const a = admin(wns);
    const before = seen.tokens.length;
    expect((await a.queueAction(pc.device.deviceId, { kind: 'sync' })).push).toEqual({ ok: true });
    expect(seen.tokens.length).toBe(before + 2);
    expect((await a.queueAction(pc.device.deviceId, { kind: 'sync' })).push).toMatchObject({ ok: false, reason: 'channel_expired' });
    expect((await a.queueAction(pc.device.deviceId, { kind: 'sync' })).push).toMatchObject({ ok: false, reason: 'no_channel' });
    wns.close();
  });

  it('never calls a channel on a host that is not a push service', async () => {
    const count = seen.pushes.length;
    const wns = client();
    expect(await wns.wake('https://169.254.169.254/latest/meta-data')).toMatchObject({ ok: false, reason: 'rejected' });
    expect(await wns.wake('http://127.0.0.1/channel')).toMatchObject({ ok: false, reason: 'rejected' });
    wns.close();
    expect(seen.pushes.length).toBe(count);
  });

  it('without push configured, actions still queue and say they wait for the next check-in', async () => {
    const pc = await enrollPc(t, 'alice@contoso.com', PW);
    const q = await admin().queueAction(pc.device.deviceId, { kind: 'sync' });
    expect(q.push).toMatchObject({ ok: false, reason: 'not_configured' });
    expect(q.state).toBe('pending');
  });
});
