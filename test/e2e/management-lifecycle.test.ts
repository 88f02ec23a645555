/**
 * Management edge cases a real deployment meets: the real Windows captures replayed over mTLS, every
 * kind of wrong certificate, and a server restart in the middle of a session.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { PROVIDER_ID } from '../../src/core/enrollment/enrollment-service.js';
import { ManagementAdmin } from '../../src/core/management/admin.js';
import { CertificateAuthority } from '../../src/pki/authority.js';
import { createRootCa } from '../../src/pki/ca.js';
import { randomSerial } from '../../src/pki/serial.js';
import { spkiOf } from '../../src/pki/spki.js';
import { clientPackage1, clientReply, decodeServerMessage, encodeClientMessage } from '../../src/protocol/syncml/client.js';
import type { ReceivedServerMessage } from '../../src/protocol/syncml/types.js';
import { systemClock } from '../../src/shared/clock.js';
import { createAgent, request } from '../../src/simulator/https-client.js';
import { randomBytes } from 'node:crypto';
import { capture } from '../support/captures.js';
import { enrollPc } from '../support/managed-device.js';
import { ENGINES, type TestServer, startTestServer, itOn } from '../support/server.js';

const PW = 'correct horse battery';
const HEADERS = { 'content-type': 'application/vnd.syncml.dm+xml', 'user-agent': 'MSFT OMA DM Client/1.2.0.1' };

async function post(t: TestServer, agent: ReturnType<typeof createAgent>, body: string): Promise<ReceivedServerMessage> {
  const res = await request({
    method: 'POST',
    url: `${t.server.urls.management}?mode=Maintenance&Platform=WoA`,
    headers: HEADERS,
    body,
    agent,
    strictFraming: true,
  });
  expect(res.status).toBe(200);
  expect(res.headers['content-type']).toBe('application/vnd.syncml.dm+xml');
  return decodeServerMessage(res.body);
}

const hdrStatus = (m: ReceivedServerMessage) => m.statuses.find((s) => s.cmdRef === '0')?.data;

describe.each(ENGINES)('management lifecycle (%s)', (engine) => {
  let t: TestServer | undefined;
  let admin: ManagementAdmin;
  const run = itOn(engine);
  beforeAll(async () => {
    t = await startTestServer(engine);
    if (!t) return;
    await t.addDomain('contoso.com');
    await t.addUser('alice@contoso.com', PW);
    admin = new ManagementAdmin({ storage: t.server.storage, clock: systemClock, providerId: PROVIDER_ID });
  });
  afterAll(async () => {
    await t?.stop();
  });
  const srv = () => t as TestServer;

  run('replays the captured first session, the captured 202 reply and the captured Disconnect', async () => {
    const pc = await enrollPc(srv(), 'alice@contoso.com', PW);
    const id = pc.device.deviceId;
    const first = await post(
      srv(),
      pc.agent,
      capture('fleet-poc-win10-19043/04-syncml-session1-msg1.request.xml').replaceAll('B5B954E81FBCB94EB79BD08BE625F4EE', id),
    );
    expect(first.header).toMatchObject({ sessionId: '1', msgId: 1, target: id });
    expect(first.statuses.map((s) => [s.msgRef, s.cmdRef, s.cmd, s.data])).toEqual([
      [1, '0', 'SyncHdr', 200],
      [1, '2', 'Alert', 200],
      [1, '3', 'Alert', 200],
      [1, '4', 'Replace', 200],
    ]);
    expect(first.final).toBe(true);
    // First contact: the inventory Gets follow the statuses.
    const gets = first.commands.filter((c) => c.kind === 'Get');
    expect(gets.length).toBeGreaterThanOrEqual(2);
    expect((await admin.device(id)).inventory).toMatchObject({ manufacturer: 'VMware, Inc.', model: 'VMware7,1' });

    // The captured client reply: Status 202 for two of our commands (CmdRef = our CmdIDs).
    const reply = capture('marcosd4h-mdm-poc-readme/syncml-session1-msg2.client-status-202.request.xml')
      .replaceAll('1E08C6E95D8BB843B1278FF45BC60CC6', id)
      .replace('<CmdRef>5</CmdRef>', `<CmdRef>${gets[0]?.cmdId}</CmdRef>`)
      .replace('<CmdRef>6</CmdRef>', `<CmdRef>${gets[1]?.cmdId}</CmdRef>`)
      .replaceAll('<Cmd>Replace</Cmd>', '<Cmd>Get</Cmd>');
    const second = await post(srv(), pc.agent, reply);
    expect(second.header.msgId).toBe(2);
    // Only the SyncHdr is answered: a client's Status elements never get a Status back.
    expect(second.statuses.map((s) => [s.msgRef, s.cmdRef, s.cmd])).toEqual([[2, '0', 'SyncHdr']]);
    const commands = (await admin.device(id)).commands;
    for (const g of gets.slice(0, 2)) expect(commands.find((c) => c.id === g.cmdId)).toMatchObject({ state: 'acknowledged', status: 202 });

    const bye = await post(
      srv(),
      pc.agent,
      capture('fleet-poc-win10-19043/05-syncml-session2-msg1-unenroll.request.xml').replaceAll('B5B954E81FBCB94EB79BD08BE625F4EE', id),
    );
    expect(bye.commands).toEqual([]);
    expect(bye.statuses.map((s) => s.data)).toEqual([200, 200, 200, 200, 200]);
    expect((await admin.device(id)).device.status).toBe('unenrolled');
  });

  run('no certificate, a foreign CA, a self-signed, an expired, another device’s or a revoked certificate gets no commands', async () => {
    const pc = await enrollPc(srv(), 'alice@contoso.com', PW);
    const other = await enrollPc(srv(), 'alice@contoso.com', PW);
    await admin.queueAction(pc.device.deviceId, { kind: 'restart' });
    const pkcs8 = pc.device.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    const now = new Date();
    const foreign = await createRootCa({ commonName: 'Not Winroll', validityYears: 1, now });
    const foreignCert = new CertificateAuthority(foreign).issueDeviceCertificate({
      subjectCommonName: pc.device.deviceId,
      publicKeySpki: spkiOf(pc.device.publicKey),
      serial: randomSerial(randomBytes),
      notBefore: now,
      notAfter: new Date(now.getTime() + 86400_000),
    });
    const ours = new CertificateAuthority({
      certPem: await readFile(path.join(srv().dataDir, 'ca', 'root-ca.pem'), 'utf8'),
      keyPem: await readFile(path.join(srv().dataDir, 'ca', 'root-ca.key'), 'utf8'),
    });
    const expired = ours.issueDeviceCertificate({
      subjectCommonName: pc.device.deviceId,
      publicKeySpki: spkiOf(pc.device.publicKey),
      serial: randomSerial(randomBytes),
      notBefore: new Date(now.getTime() - 400 * 86400_000),
      notAfter: new Date(now.getTime() - 35 * 86400_000),
    });
    const selfSigned = await createRootCa({ commonName: pc.device.deviceId, validityYears: 1, now });
    const ca = srv().server.tlsRootCaPem;
    const cases: Array<[string, ReturnType<typeof createAgent>, number]> = [
      ['no certificate', createAgent({ ca }), 401],
      ['foreign CA', createAgent({ ca, cert: foreignCert.pem, key: pkcs8 }), 401],
      ['self-signed', createAgent({ ca, cert: selfSigned.certPem, key: selfSigned.keyPem }), 401],
      ['expired', createAgent({ ca, cert: expired.pem, key: pkcs8 }), 401],
      ['another device', other.agent, 403],
    ];
    const body = encodeClientMessage(
      clientPackage1({
        sessionId: '1',
        serverUrl: srv().server.urls.management,
        deviceId: pc.device.deviceId,
        devInfo: { devId: pc.device.deviceId, man: 'x', mod: 'y', dmV: '1.3', lang: 'en-US' },
      }),
    );
    for (const [name, agent, status] of cases) {
      const m = await post(srv(), agent, body);
      expect([name, hdrStatus(m), m.commands.length, m.statuses.length]).toEqual([name, status, 0, 1]);
      agent.destroy();
    }
    // The restart is still queued for the real device, untouched by the impostors.
    expect((await admin.device(pc.device.deviceId)).commands.find((c) => c.item.locUri.endsWith('RebootNow'))?.state).toBe('pending');
    // Revoked: after Disconnect the device's own certificate is refused too.
    await pc.checkIn({ unenroll: true });
    expect(hdrStatus(await post(srv(), pc.agent, body))).toBe(403);
  });

  run('a server restart in the middle of a session loses no command and acknowledges none twice', async () => {
    const pc = await enrollPc(srv(), 'alice@contoso.com', PW);
    await pc.checkIn();
    const restart = await admin.queueAction(pc.device.deviceId, { kind: 'restart' });
    const sync = await admin.queueAction(pc.device.deviceId, { kind: 'sync' });
    const mgmt = () => srv().server.urls.management;
    const pkg1 = clientPackage1({
      sessionId: '7',
      serverUrl: mgmt(),
      deviceId: pc.device.deviceId,
      devInfo: { devId: pc.device.deviceId, man: 'x', mod: 'y', dmV: '1.3', lang: 'en-US' },
    });
    const sent = await post(srv(), pc.agent, encodeClientMessage(pkg1));
    expect(sent.commands.map((c) => c.cmdId).sort()).toEqual([restart.id, sync.id].sort());

    // The server goes down after sending; the device executed the commands and answers the new process.
    await srv().restart();
    admin = new ManagementAdmin({ storage: srv().server.storage, clock: systemClock, providerId: PROVIDER_ID });
    pc.agent.destroy();
    const answer = clientReply(sent, {
      msgId: 2,
      answer: (c) => (c.kind === 'Get' ? { status: 200, results: [{ source: './DevDetail/SwV', data: '10.0.1' }] } : { status: 200 }),
    });
    const after = await post(srv(), pc.agent, encodeClientMessage(answer));
    expect(hdrStatus(after)).toBe(200);
    // Answering the same message again (a retry) changes nothing: acknowledged once.
    await post(srv(), pc.agent, encodeClientMessage(answer));
    const cmds = (await admin.device(pc.device.deviceId)).commands;
    for (const id of [restart.id, sync.id]) expect(cmds.find((c) => c.id === id)).toMatchObject({ state: 'acknowledged', attempts: 1 });

    // A session lost with the server: its commands go out again in the next session.
    const lost = await admin.queueAction(pc.device.deviceId, { kind: 'restart' });
    const pkgA = clientPackage1({
      sessionId: '8',
      serverUrl: mgmt(),
      deviceId: pc.device.deviceId,
      devInfo: { devId: pc.device.deviceId, man: 'x', mod: 'y', dmV: '1.3', lang: 'en-US' },
    });
    const first = await post(srv(), pc.agent, encodeClientMessage(pkgA));
    expect(first.commands.map((c) => c.cmdId)).toEqual([lost.id]);
    await srv().restart();
    admin = new ManagementAdmin({ storage: srv().server.storage, clock: systemClock, providerId: PROVIDER_ID });
    const reboots = pc.state.reboots;
    await pc.checkIn();
    expect(pc.state.reboots).toBe(reboots + 1);
    expect((await admin.device(pc.device.deviceId)).commands.find((c) => c.id === lost.id)).toMatchObject({
      state: 'acknowledged',
      attempts: 2,
    });
  });
});
