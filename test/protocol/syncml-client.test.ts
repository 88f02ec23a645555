import { describe, expect, it } from 'vitest';
import {
  clientPackage1,
  clientReply,
  decodeServerMessage,
  encodeClientMessage,
  serverExpectsReply,
  unenrollAlert,
} from '../../src/protocol/syncml/client.js';
import { ALERT, ALERT_TYPE, STATUS } from '../../src/protocol/syncml/codes.js';
import { encodeSyncMl } from '../../src/protocol/syncml/encode.js';
import { SyncMlError } from '../../src/protocol/syncml/errors.js';
import { decodeSyncMl } from '../../src/protocol/syncml/message.js';
import { replyHeader, statusesFor } from '../../src/protocol/syncml/reply.js';
import { readCaptureText } from './support.js';

const DEVICE = 'B5B954E81FBCB94EB79BD08BE625F4EE';
const SERVER_URL = 'https://windows.fleetdm.ngrok.io/ManagementServer/MDM.svc';
const devInfo = { devId: DEVICE, man: 'VMware, Inc.', mod: 'VMware7,1', dmV: '1.3', lang: 'en-US' };

describe('simulated Windows client', () => {
  it('writes package 1 byte for byte like the Windows 10 capture', () => {
    const msg = clientPackage1({ sessionId: '1', serverUrl: SERVER_URL, deviceId: DEVICE, devInfo });
    expect(encodeClientMessage(msg)).toBe(readCaptureText('fleet-poc-win10-19043/04-syncml-session1-msg1.request.xml'));
  });

  it('writes the Disconnect session byte for byte like the Windows 10 capture', () => {
    const msg = clientPackage1({ sessionId: '2', serverUrl: SERVER_URL, deviceId: DEVICE, devInfo, extraAlerts: [unenrollAlert()] });
    expect(encodeClientMessage(msg)).toBe(readCaptureText('fleet-poc-win10-19043/05-syncml-session2-msg1-unenroll.request.xml'));
  });

  it('answers a server message byte for byte like the captured Status-202 reply', () => {
    const server = decodeServerMessage(
      readCaptureText('marcosd4h-mdm-poc-readme/syncml-session1-msg1.server-replace.response.as-logged.xml'),
    );
    expect(serverExpectsReply(server)).toBe(true);
    const reply = clientReply(server, { msgId: 2, answer: () => ({ status: STATUS.acceptedForProcessing }) });
    expect(encodeClientMessage(reply)).toBe(readCaptureText('marcosd4h-mdm-poc-readme/syncml-session1-msg2.client-status-202.request.xml'));
  });

  it('sends Alert 1200 after a push, the AADUserToken alert, and ends when the server sends only statuses', () => {
    const msg = clientPackage1({
      sessionId: '3',
      serverUrl: SERVER_URL,
      deviceId: DEVICE,
      devInfo,
      trigger: 'server',
      loginStatus: 'none',
      aadUserToken: 'eyJ0',
    });
    const decoded = decodeSyncMl(encodeClientMessage(msg));
    expect(
      decoded.commands.map((c) => (c.kind === 'Alert' ? [c.cmdId, c.data, c.items[0]?.meta?.type, c.items[0]?.data] : [c.cmdId, c.kind])),
    ).toEqual([
      ['2', ALERT.serverInitiatedSession, undefined, undefined],
      ['3', ALERT.clientEvent, ALERT_TYPE.loginStatus, 'none'],
      ['4', ALERT.clientEvent, ALERT_TYPE.aadUserToken, 'eyJ0'],
      ['5', 'Replace'],
    ]);
    const statuses = statusesFor(decoded, () => STATUS.ok);
    const end = decodeServerMessage(encodeSyncMl({ ...replyHeader(decoded, SERVER_URL), statuses, commands: [], final: true }));
    expect(serverExpectsReply(end)).toBe(false);
    expect(end.statuses).toHaveLength(5);
  });

  it('runs a Get, an Atomic and an unknown command through a full exchange', () => {
    const server = decodeServerMessage(
      encodeSyncMl({
        sessionId: '4',
        msgId: 1,
        target: DEVICE,
        source: SERVER_URL,
        statuses: [{ cmdId: '1', msgRef: 1, cmdRef: '0', cmd: 'SyncHdr', data: 200 }],
        commands: [
          { kind: 'Get', cmdId: 'g-1', items: [{ target: './DevDetail/SwV' }] },
          {
            kind: 'Atomic',
            cmdId: 'a-1',
            commands: [
              { kind: 'Add', cmdId: 'a-2', items: [{ target: './Vendor/MSFT/Ok', data: '1' }] },
              { kind: 'Replace', cmdId: 'a-3', items: [{ target: './Vendor/MSFT/Fails', data: '1' }] },
            ],
          },
        ],
        final: true,
      }).replace('</Atomic>', '</Atomic><Copy><CmdID>c-1</CmdID></Copy>'),
    );
    expect(server.commands.map((c) => c.kind)).toEqual(['Get', 'Atomic', 'Unknown']);
    const reply = clientReply(server, {
      msgId: 2,
      answer: (c) => {
        if (c.kind === 'Get')
          return {
            status: STATUS.ok,
            results: [{ source: './DevDetail/SwV', meta: { format: 'chr', type: 'text/plain' }, data: '10.0.19045.2965' }],
          };
        if (c.kind === 'Unknown') return { status: STATUS.optionalFeatureNotSupported };
        return { status: c.cmdId === 'a-3' ? STATUS.commandFailed : STATUS.ok };
      },
    });
    const atServer = decodeSyncMl(encodeClientMessage(reply));
    expect(atServer.header).toMatchObject({ sessionId: '4', msgId: 2, target: SERVER_URL, source: DEVICE });
    expect(
      atServer.commands.map((c) =>
        c.kind === 'Status' ? [c.cmdId, c.kind, c.cmdRef, c.cmd, c.data] : [c.cmdId, c.kind, 'cmdRef' in c ? c.cmdRef : ''],
      ),
    ).toEqual([
      ['1', 'Status', '0', 'SyncHdr', 200],
      ['2', 'Status', 'g-1', 'Get', 200],
      ['3', 'Results', 'g-1'],
      ['4', 'Status', 'a-1', 'Atomic', STATUS.atomicFailed],
      ['5', 'Status', 'a-2', 'Add', 200],
      ['6', 'Status', 'a-3', 'Replace', 500],
      ['7', 'Status', 'c-1', 'Copy', 406],
    ]);
    expect(atServer.commands[2]).toEqual({
      kind: 'Results',
      cmdId: '3',
      msgRef: 1,
      cmdRef: 'g-1',
      items: [{ source: './DevDetail/SwV', meta: { type: 'text/plain', format: 'chr' }, data: '10.0.19045.2965', moreData: false }],
    });
    // Statuses and Results are never answered: the server's reply holds the SyncHdr status only.
    expect(statusesFor(atServer, () => STATUS.ok)).toHaveLength(1);
  });

  it('refuses to write what a client must not send either', () => {
    const msg = clientPackage1({ sessionId: '1', serverUrl: SERVER_URL, deviceId: DEVICE, devInfo });
    expect(() => encodeClientMessage({ ...msg, msgId: 0 })).toThrow(SyncMlError);
    expect(() =>
      encodeClientMessage({ ...msg, commands: [...msg.commands, { kind: 'Alert', cmdId: '2', data: 1201, items: [] }] }),
    ).toThrow(/used twice/);
    expect(() =>
      encodeClientMessage({ ...msg, commands: [{ kind: 'Replace', cmdId: '2', items: [{ source: '/DevInfo/DevId', data: 'x' }] }] }),
    ).toThrow(/must not start/);
  });

  it('writes the SyncHdr Cred and MaxMsgSize in DTD order', () => {
    const msg = clientPackage1({ sessionId: '1', serverUrl: SERVER_URL, deviceId: DEVICE, devInfo });
    const xml = encodeClientMessage({ ...msg, cred: { type: 'syncml:auth-md5', format: 'b64', data: 'ZGln' }, maxMsgSize: 8192 });
    expect(xml).toContain(
      `<Source><LocURI>${DEVICE}</LocURI></Source><Cred><Meta><Format xmlns="syncml:metinf">b64</Format><Type xmlns="syncml:metinf">syncml:auth-md5</Type></Meta>` +
        '<Data>ZGln</Data></Cred><Meta><MaxMsgSize xmlns="syncml:metinf">8192</MaxMsgSize></Meta></SyncHdr>',
    );
    expect(decodeSyncMl(xml).header).toMatchObject({ cred: { type: 'syncml:auth-md5', format: 'b64', data: 'ZGln' }, maxMsgSize: 8192 });
  });
});
