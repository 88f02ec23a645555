/**
 * Transport rules of the management channel: messages stay under the device's MaxMsgSize (what does
 * not fit goes in the next message), and a TLS-terminating proxy's certificate header is honoured only
 * when configured and only from the configured proxy.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROVIDER_ID } from '../../src/core/enrollment/enrollment-service.js';
import { ManagementAdmin } from '../../src/core/management/admin.js';
import {
  clientPackage1,
  clientReply,
  decodeServerMessage,
  encodeClientMessage,
  serverExpectsReply,
} from '../../src/protocol/syncml/client.js';
import { systemClock } from '../../src/shared/clock.js';
import { createAgent, request } from '../../src/simulator/https-client.js';
import { enrollPc } from '../support/managed-device.js';
import { type TestServer, startTestServer } from '../support/server.js';

const PW = 'correct horse battery';
const HEADERS = { 'content-type': 'application/vnd.syncml.dm+xml' };

describe('management transport', () => {
  let t: TestServer;
  beforeAll(async () => {
    t = (await startTestServer('sqlite', { trustedProxyCertHeader: 'Client-Cert', trustedProxies: '127.0.0.1' })) as TestServer;
    await t.addDomain('contoso.com');
    await t.addUser('alice@contoso.com', PW);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it('splits commands across messages so none exceeds the MaxMsgSize the device states', async () => {
    const pc = await enrollPc(t, 'alice@contoso.com', PW);
    await pc.checkIn();
    const admin = new ManagementAdmin({ storage: t.server.storage, clock: systemClock, providerId: PROVIDER_ID });
    const settings = Array.from({ length: 40 }, (_, i) => ({
      path: `Vendor/MSFT/Policy/Config/Test/Setting${i}`,
      format: 'chr',
      value: `v${i}-${'x'.repeat(200)}`,
    }));
    await admin.saveProfile({ name: 'Big', scope: 'device', settings });
    await admin.assignProfile('Big', { device: pc.device.deviceId });

    const max = 4096;
    let msg = {
      ...clientPackage1({
        sessionId: '9',
        serverUrl: t.server.urls.management,
        deviceId: pc.device.deviceId,
        devInfo: { devId: pc.device.deviceId, man: 'm', mod: 'm', dmV: '1.3', lang: 'en-US' },
      }),
      maxMsgSize: max,
    };
    const received = new Set<string>();
    let messages = 0;
    for (;;) {
      const res = await request({
        method: 'POST',
        url: t.server.urls.management,
        headers: HEADERS,
        body: encodeClientMessage(msg),
        agent: pc.agent,
        strictFraming: true,
      });
      messages++;
      expect(res.body.length).toBeLessThanOrEqual(max);
      const server = decodeServerMessage(res.body);
      for (const c of server.commands) if ('items' in c) for (const i of c.items) received.add(i.target ?? '');
      if (!serverExpectsReply(server)) break;
      msg = { ...clientReply(server, { msgId: msg.msgId + 1, answer: () => ({ status: 200 }) }), maxMsgSize: max };
      expect(messages).toBeLessThan(60);
    }
    expect(messages).toBeGreaterThan(3);
    for (const s of settings) expect(received.has(`./Device/${s.path}`)).toBe(true);
  });

  it('takes the device certificate from the trusted proxy header, and only from the trusted proxy', async () => {
    const pc = await enrollPc(t, 'alice@contoso.com', PW);
    const der = Buffer.from(pc.enrolled.certificate.raw).toString('base64');
    const plain = createAgent({ ca: t.server.tlsRootCaPem });
    const body = encodeClientMessage(
      clientPackage1({
        sessionId: '1',
        serverUrl: t.server.urls.management,
        deviceId: pc.device.deviceId,
        devInfo: { devId: pc.device.deviceId, man: 'm', mod: 'm', dmV: '1.3', lang: 'en-US' },
      }),
    );
    const status = async (headers: Record<string, string>) => {
      const res = await request({ method: 'POST', url: t.server.urls.management, headers: { ...HEADERS, ...headers }, body, agent: plain });
      return decodeServerMessage(res.body).statuses[0]?.data;
    };
    try {
      expect(await status({ 'client-cert': `:${der}:` })).toBe(200);
      expect(await status({})).toBe(401);
      expect(await status({ 'client-cert': ':not base64!:' })).toBe(401);
      // nginx's form: URL-encoded PEM.
      expect(await status({ 'client-cert': encodeURIComponent(pc.enrolled.certificate.toString()) })).toBe(200);
    } finally {
      plain.destroy();
    }
  });

  it('ignores the header from anyone but the configured proxy', async () => {
    const other = (await startTestServer('sqlite', { trustedProxyCertHeader: 'Client-Cert', trustedProxies: '192.0.2.10' })) as TestServer;
    try {
      await other.addDomain('contoso.com');
      await other.addUser('alice@contoso.com', PW);
      const pc = await enrollPc(other, 'alice@contoso.com', PW);
      const plain = createAgent({ ca: other.server.tlsRootCaPem });
      const body = encodeClientMessage(
        clientPackage1({
          sessionId: '1',
          serverUrl: other.server.urls.management,
          deviceId: pc.device.deviceId,
          devInfo: { devId: pc.device.deviceId, man: 'm', mod: 'm', dmV: '1.3', lang: 'en-US' },
        }),
      );
      const res = await request({
        method: 'POST',
        url: other.server.urls.management,
        headers: { ...HEADERS, 'client-cert': `:${Buffer.from(pc.enrolled.certificate.raw).toString('base64')}:` },
        body,
        agent: plain,
      });
      expect(decodeServerMessage(res.body).statuses[0]?.data).toBe(401);
      // The device's own TLS certificate still works there.
      expect((await pc.checkIn()).headerStatus).toBe(200);
      plain.destroy();
    } finally {
      await other.stop();
    }
  });
});
