import { describe, expect, it } from 'vitest';
import { decodeServerMessage } from '../../src/protocol/syncml/client.js';
import { ALERT, ALERT_TYPE, AUTH_MD5, STATUS } from '../../src/protocol/syncml/codes.js';
import { encodeServerCommand, encodeSyncMl } from '../../src/protocol/syncml/encode.js';
import { SyncMlError } from '../../src/protocol/syncml/errors.js';
import { decodeSyncMl } from '../../src/protocol/syncml/message.js';
import {
  CmdIdAllocator,
  DEFAULT_MAX_MSG_SIZE,
  estimateSize,
  fitToSize,
  frameSize,
  messageBudget,
  replyHeader,
  statusesFor,
} from '../../src/protocol/syncml/reply.js';
import type { ServerCommand, ServerMessage } from '../../src/protocol/syncml/types.js';
import { XmlError } from '../../src/protocol/xml/errors.js';
import { must, readCapture, readCaptureText } from './support.js';

const SESSION1 = 'fleet-poc-win10-19043/04-syncml-session1-msg1.request.xml';
const SESSION2 = 'fleet-poc-win10-19043/05-syncml-session2-msg1-unenroll.request.xml';
const SESSION1_REPLY = 'fleet-poc-win10-19043/accepted-server-output/syncml-session1-msg1.response.as-logged.xml';
const MARCOS_SERVER = 'marcosd4h-mdm-poc-readme/syncml-session1-msg1.server-replace.response.as-logged.xml';
const MARCOS_CLIENT_202 = 'marcosd4h-mdm-poc-readme/syncml-session1-msg2.client-status-202.request.xml';

const DEVICE = 'B5B954E81FBCB94EB79BD08BE625F4EE';
const SERVER_URL = 'https://windows.fleetdm.ngrok.io/ManagementServer/MDM.svc';

const devInfoItems = [
  { source: './DevInfo/DevId', data: DEVICE, moreData: false },
  { source: './DevInfo/Man', data: 'VMware, Inc.', moreData: false },
  { source: './DevInfo/Mod', data: 'VMware7,1', moreData: false },
  { source: './DevInfo/DmV', data: '1.3', moreData: false },
  { source: './DevInfo/Lang', data: 'en-US', moreData: false },
];

const loginAlert = (cmdId: string) => ({
  kind: 'Alert',
  cmdId,
  data: 1224,
  items: [{ meta: { type: ALERT_TYPE.loginStatus }, data: 'user', moreData: false }],
});

/** A minimal client message around the given SyncBody content. */
const clientMsg = (body: string, ns = 'SYNCML:SYNCML1.2', hdrExtra = ''): string =>
  `<SyncML xmlns="${ns}"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto><SessionID>7</SessionID><MsgID>3</MsgID>` +
  `<Target><LocURI>${SERVER_URL}</LocURI></Target><Source><LocURI>${DEVICE}</LocURI></Source>${hdrExtra}</SyncHdr>` +
  `<SyncBody>${body}<Final/></SyncBody></SyncML>`;

describe('decodeSyncMl: real Windows captures', () => {
  it('reads session 1 package 1 (Alert 1201, LoginStatus, DevInfo Replace)', () => {
    const msg = decodeSyncMl(readCapture(SESSION1));
    expect(msg.version).toBe('1.2');
    expect(msg.header).toEqual({
      verDtd: '1.2',
      verProto: 'DM/1.2',
      sessionId: '1',
      msgId: 1,
      target: SERVER_URL,
      source: DEVICE,
    });
    expect(msg.commands).toEqual([
      { kind: 'Alert', cmdId: '2', data: ALERT.clientInitiatedSession, items: [] },
      loginAlert('3'),
      { kind: 'Replace', cmdId: '4', items: devInfoItems },
    ]);
    expect(msg.final).toBe(true);
  });

  it('reads session 2 with the unenrollment Alert 1226 (Type then Format, int 1)', () => {
    const msg = decodeSyncMl(readCaptureText(SESSION2));
    expect(msg.header.sessionId).toBe('2');
    expect(msg.header.msgId).toBe(1);
    expect(msg.commands.map((c) => [c.kind, c.cmdId])).toEqual([
      ['Alert', '2'],
      ['Alert', '3'],
      ['Alert', '4'],
      ['Replace', '5'],
    ]);
    expect(msg.commands[2]).toEqual({
      kind: 'Alert',
      cmdId: '4',
      data: ALERT.generic,
      items: [{ meta: { type: ALERT_TYPE.unenrollmentUserRequest, format: 'int' }, data: '1', moreData: false }],
    });
  });

  it("reads the client's Status-202 reply and answers it with the SyncHdr status only", () => {
    const msg = decodeSyncMl(readCapture(MARCOS_CLIENT_202));
    expect(msg.header).toMatchObject({ sessionId: '1', msgId: 2, source: '1E08C6E95D8BB843B1278FF45BC60CC6' });
    expect(msg.final).toBe(true);
    expect(msg.commands).toEqual([
      { kind: 'Status', cmdId: '1', msgRef: 1, cmdRef: '0', cmd: 'SyncHdr', data: 200 },
      { kind: 'Status', cmdId: '2', msgRef: 1, cmdRef: '5', cmd: 'Replace', data: STATUS.acceptedForProcessing },
      { kind: 'Status', cmdId: '3', msgRef: 1, cmdRef: '6', cmd: 'Replace', data: STATUS.acceptedForProcessing },
    ]);
    const statuses = statusesFor(msg, () => {
      throw new Error('Status elements are never answered');
    });
    expect(statuses).toEqual([{ cmdId: '1', msgRef: 2, cmdRef: '0', cmd: 'SyncHdr', data: 200 }]);
  });
});

describe('building the reply', () => {
  it('answers capture 04 exactly like the accepted server output (structurally)', () => {
    const msg = decodeSyncMl(readCapture(SESSION1));
    const statuses = statusesFor(msg, () => STATUS.ok);
    const xml = encodeSyncMl({ ...replyHeader(msg, SERVER_URL), statuses, commands: [], final: true });
    expect(decodeServerMessage(xml)).toEqual(decodeServerMessage(readCapture(SESSION1_REPLY)));
    expect(statuses.map((s) => [s.cmdId, s.cmdRef, s.cmd])).toEqual([
      ['1', '0', 'SyncHdr'],
      ['2', '2', 'Alert'],
      ['3', '3', 'Alert'],
      ['4', '4', 'Replace'],
    ]);
    expect(xml).toBe(
      '<?xml version="1.0" encoding="UTF-8"?><SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD><VerProto>DM/1.2</VerProto>' +
        `<SessionID>1</SessionID><MsgID>1</MsgID><Target><LocURI>${DEVICE}</LocURI></Target><Source><LocURI>${SERVER_URL}</LocURI></Source></SyncHdr>` +
        '<SyncBody><Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>' +
        '<Status><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>2</CmdRef><Cmd>Alert</Cmd><Data>200</Data></Status>' +
        '<Status><CmdID>3</CmdID><MsgRef>1</MsgRef><CmdRef>3</CmdRef><Cmd>Alert</Cmd><Data>200</Data></Status>' +
        '<Status><CmdID>4</CmdID><MsgRef>1</MsgRef><CmdRef>4</CmdRef><Cmd>Replace</Cmd><Data>200</Data></Status><Final/></SyncBody></SyncML>',
    );
  });

  it('re-encodes the accepted marcosd4h server message to the same structure', () => {
    const received = decodeServerMessage(readCapture(MARCOS_SERVER));
    expect(received.commands).toHaveLength(2);
    expect(received.commands[0]).toEqual({
      kind: 'Replace',
      cmdId: '5',
      items: [
        {
          target: './Vendor/MSFT/Personalization/DesktopImageUrl',
          // The Type element there has no namespace: it is still read by local name.
          meta: { format: 'chr', type: 'text/plain' },
          data: 'https://fleetdm.com/images/articles/fleet-4.24.0-cover-1600x900@2x.jpg',
          moreData: false,
        },
      ],
    });
    const { header } = received;
    const message: ServerMessage = {
      sessionId: header.sessionId,
      msgId: header.msgId,
      target: header.target,
      source: header.source,
      statuses: received.statuses.map((s) => ({ ...s, msgRef: must(s.msgRef, 'MsgRef') })),
      commands: received.commands.map((c) => {
        if (c.kind === 'Unknown') throw new Error('unexpected Unknown');
        return c as ServerCommand;
      }),
      final: received.final,
    };
    expect(decodeServerMessage(encodeSyncMl(message))).toEqual(received);
  });

  it('numbers statuses then commands from one allocator, keeping commands that bring their own ids', () => {
    const msg = decodeSyncMl(readCapture(SESSION2));
    const ids = new CmdIdAllocator();
    const statuses = statusesFor(msg, () => STATUS.ok, { ids });
    expect(statuses.map((s) => s.cmdId)).toEqual(['1', '2', '3', '4', '5']);
    const uuid = '0f2d7f6c-5c1e-4a8e-9a55-1c2a3b4c5d6e';
    const commands = ids.assign([
      { kind: 'Get', items: [{ target: './DevDetail/SwV' }] },
      { kind: 'Replace', cmdId: uuid, items: [{ target: './Device/Vendor/MSFT/Policy/Config/Camera/AllowCamera', data: '0' }] },
      { kind: 'Atomic', commands: [{ kind: 'Add', items: [{ target: './Vendor/MSFT/X/Y', data: '1' }] }] },
    ]);
    expect(commands.map((c) => c.cmdId)).toEqual(['6', uuid, '7']);
    expect(commands[2]).toMatchObject({ kind: 'Atomic', commands: [{ kind: 'Add', cmdId: '8' }] });
    expect(() => encodeSyncMl({ ...replyHeader(msg, SERVER_URL), statuses, commands, final: true })).not.toThrow();
  });

  it('answers commands without CmdID and unreadable commands with 400, unknown ones as decided', () => {
    const msg = decodeSyncMl(
      clientMsg('<Alert><Data>1201</Data></Alert><Alert><CmdID>3</CmdID><Data>soon</Data></Alert><Copy><CmdID>4</CmdID></Copy>'),
    );
    expect(msg.commands).toEqual([
      { kind: 'Alert', cmdId: '', data: 1201, items: [] },
      { kind: 'Unknown', cmdId: '3', name: 'Alert', problem: expect.stringContaining('Alert/Data') },
      { kind: 'Unknown', cmdId: '4', name: 'Copy' },
    ]);
    const statuses = statusesFor(msg, (c) => (c.kind === 'Unknown' ? STATUS.optionalFeatureNotSupported : STATUS.ok));
    expect(statuses.slice(1).map((s) => [s.cmdRef, s.cmd, s.data])).toEqual([
      ['', 'Alert', 400],
      ['3', 'Alert', 400],
      ['4', 'Copy', 406],
    ]);
  });

  it('never answers Status or Results, even unreadable ones, and reads msft:originalerror', () => {
    const msg = decodeSyncMl(
      clientMsg(
        '<Status><CmdID>1</CmdID><MsgRef>1</MsgRef><CmdRef>0</CmdRef><Cmd>SyncHdr</Cmd><Data>200</Data></Status>' +
          '<Status xmlns:msft="http://schemas.microsoft.com/MobileDevice/MDM"><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>7</CmdRef><Cmd>Replace</Cmd>' +
          '<Data msft:originalerror="0x8007000D">500</Data></Status><Status><CmdID>3</CmdID><MsgRef>x</MsgRef><CmdRef>8</CmdRef><Cmd>Add</Cmd><Data>200</Data></Status>',
      ),
    );
    expect(msg.commands[1]).toMatchObject({ kind: 'Status', cmdRef: '7', data: 500, originalError: '0x8007000D' });
    expect(msg.commands[2]).toMatchObject({ kind: 'Unknown', name: 'Status', problem: expect.stringContaining('MsgRef') });
    expect(statusesFor(msg, () => STATUS.ok)).toHaveLength(1);
  });

  it('challenges the SyncHdr with 407 + Chal and answers nothing else', () => {
    const msg = decodeSyncMl(readCapture(SESSION1));
    const chal = { type: AUTH_MD5, format: 'b64', nextNonce: 'AAECAw==' };
    const statuses = statusesFor(msg, () => STATUS.ok, { hdrStatus: STATUS.missingCredentials, chal });
    expect(statuses).toEqual([{ cmdId: '1', msgRef: 1, cmdRef: '0', cmd: 'SyncHdr', data: 407, chal }]);
    const xml = encodeSyncMl({ ...replyHeader(msg, SERVER_URL), statuses, commands: [], final: true });
    expect(xml).toContain(
      '<Cmd>SyncHdr</Cmd><Chal><Meta><Format xmlns="syncml:metinf">b64</Format><Type xmlns="syncml:metinf">syncml:auth-md5</Type>' +
        '<NextNonce xmlns="syncml:metinf">AAECAw==</NextNonce></Meta></Chal><Data>407</Data>',
    );
    expect(decodeServerMessage(xml).statuses[0]?.chal).toEqual(chal);
  });
});

describe('decodeSyncMl: tolerance', () => {
  it('accepts SyncML 1.1 and lower-case namespaces, and Meta in metinfo or no namespace', () => {
    const body =
      '<Alert><CmdID>2</CmdID><Data>1224</Data><Item><Meta><Type xmlns="syncml:metinfo">com.microsoft/MDM/LoginStatus</Type></Meta><Data>user</Data></Item></Alert>' +
      '<Alert><CmdID>3</CmdID><Data>1226</Data><Item><Meta><Type>x</Type><Format xmlns="SYNCML:METINF">int</Format><Mark>high</Mark><Size>12</Size></Meta><Data>1</Data></Item></Alert>';
    const v11 = decodeSyncMl(clientMsg(body, 'SYNCML:SYNCML1.1'));
    expect(v11.version).toBe('1.1');
    expect(v11.commands[0]).toEqual(loginAlert('2'));
    expect(v11.commands[1]).toMatchObject({ items: [{ meta: { type: 'x', format: 'int', mark: 'high', size: 12 } }] });
    expect(decodeSyncMl(clientMsg(body, 'syncml:syncml1.2')).version).toBe('1.2');
  });

  it('reads SyncHdr Cred and Meta/MaxMsgSize', () => {
    const hdr =
      '<Cred><Meta><Format xmlns="syncml:metinf">b64</Format><Type xmlns="syncml:metinf">syncml:auth-md5</Type></Meta><Data>ZGlnZXN0</Data></Cred>' +
      '<Meta><MaxMsgSize xmlns="syncml:metinf">8192</MaxMsgSize></Meta>';
    const msg = decodeSyncMl(clientMsg('', 'SYNCML:SYNCML1.2', hdr));
    expect(msg.header.cred).toEqual({ format: 'b64', type: AUTH_MD5, data: 'ZGlnZXN0' });
    expect(msg.header.maxMsgSize).toBe(8192);
    expect(messageBudget(msg)).toBe(8192);
    expect(messageBudget(decodeSyncMl(readCapture(SESSION1)))).toBe(DEFAULT_MAX_MSG_SIZE);
  });

  it('keeps raw XML Data as the exact source slice, and escaped or CDATA Data as decoded text', () => {
    const raw =
      '<wlan xmlns="http://www.microsoft.com/networking/WLAN/profile/v1">\n  <name>a &amp; b</name><x:y xmlns:x="urn:x"/>tail</wlan>';
    const body =
      `<Results><CmdID>2</CmdID><MsgRef>1</MsgRef><CmdRef>5</CmdRef><Item><Source><LocURI>./Vendor/MSFT/WiFi/Profile/p/WlanXml</LocURI></Source>` +
      `<Meta><Format xmlns="syncml:metinf">xml</Format></Meta><Data>${raw}</Data></Item>` +
      `<Item><Data>&lt;wlan&gt;&amp;amp;&lt;/wlan&gt;</Data></Item><Item><Data><![CDATA[<wlan>&amp;</wlan>]]></Data></Item>` +
      `<Item><Data><?xml version="1.0" encoding="utf-8"?><Report a="1"/></Data><MoreData/></Item><Item><Data/></Item></Results>`;
    const [results] = decodeSyncMl(clientMsg(body)).commands;
    expect(results).toMatchObject({ kind: 'Results', cmdId: '2', msgRef: 1, cmdRef: '5' });
    if (results?.kind !== 'Results') throw new Error('expected Results');
    expect(results.items.map((i) => i.data)).toEqual([raw, '<wlan>&amp;</wlan>', '<wlan>&amp;</wlan>', '<Report a="1"/>', '']);
    expect(results.items[0]?.meta).toEqual({ format: 'xml' });
    expect(results.items[3]?.moreData).toBe(true);
  });

  it('decodes client Get/Add/Delete/Exec and keeps foreign-namespace elements as Unknown', () => {
    const msg = decodeSyncMl(
      clientMsg(
        '<Get><CmdID>2</CmdID><Item><Target><LocURI>./a</LocURI></Target></Item></Get><Exec><CmdID>3</CmdID><Meta><Format xmlns="syncml:metinf">chr</Format></Meta><Item><Target><LocURI>./b</LocURI></Target></Item></Exec>' +
          '<x:Thing xmlns:x="urn:other"><CmdID>9</CmdID></x:Thing>',
      ),
    );
    expect(msg.commands).toEqual([
      { kind: 'Get', cmdId: '2', items: [{ target: './a', moreData: false }] },
      { kind: 'Exec', cmdId: '3', meta: { format: 'chr' }, items: [{ target: './b', moreData: false }] },
      { kind: 'Unknown', cmdId: '', name: 'Thing' },
    ]);
  });
});

describe('decodeSyncMl: refusals', () => {
  const refuse: Array<[string, string | Buffer, RegExp]> = [
    ['a SOAP envelope', '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body/></s:Envelope>', /not a SyncML message/],
    ['an unknown SyncML namespace', clientMsg('', 'SYNCML:SYNCML2.0'), /not a SyncML message/],
    ['SyncML without namespace', '<SyncML><SyncHdr/><SyncBody/></SyncML>', /not a SyncML message/],
    ['a message without SyncHdr', '<SyncML xmlns="SYNCML:SYNCML1.2"><SyncBody><Final/></SyncBody></SyncML>', /SyncHdr/],
    ['a message without SyncBody', clientMsg('').replace(/<SyncBody>.*<\/SyncBody>/, ''), /SyncBody/],
    ['a missing SessionID', clientMsg('').replace('<SessionID>7</SessionID>', ''), /SessionID/],
    ['an empty SessionID', clientMsg('').replace('<SessionID>7</SessionID>', '<SessionID> </SessionID>'), /SessionID/],
    ['a missing MsgID', clientMsg('').replace('<MsgID>3</MsgID>', ''), /MsgID/],
    ['a non-numeric MsgID', clientMsg('').replace('<MsgID>3</MsgID>', '<MsgID>three</MsgID>'), /MsgID/],
    ['a missing Source', clientMsg('').replace(/<Source>.*?<\/Source>/, ''), /Source/],
    ['malformed XML', clientMsg('<Alert>'), /not acceptable XML/],
    ['invalid UTF-8', Buffer.from([0x3c, 0x61, 0x3e, 0xff, 0x3c, 0x2f, 0x61, 0x3e]), /UTF-8/],
  ];
  for (const [name, input, why] of refuse) {
    it(`refuses ${name}`, () => {
      expect(() => decodeSyncMl(input)).toThrow(SyncMlError);
      expect(() => decodeSyncMl(input)).toThrow(why);
    });
  }

  it('refuses XML bombs and external entities, with the XmlError as cause', () => {
    const bombs = [
      '<?xml version="1.0"?><!DOCTYPE SyncML [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>' +
        clientMsg('<Alert><CmdID>2</CmdID><Data>&b;</Data></Alert>'),
      `<!DOCTYPE SyncML [<!ENTITY x SYSTEM "file:///etc/passwd">]>${clientMsg('<Alert><CmdID>2</CmdID><Data>&x;</Data></Alert>')}`,
      clientMsg(`<Alert><CmdID>2</CmdID><Data>1201</Data><Item><Data>${'<a>'.repeat(100)}${'</a>'.repeat(100)}</Data></Item></Alert>`),
    ];
    for (const bomb of bombs) {
      let caught: unknown;
      try {
        decodeSyncMl(bomb);
      } catch (err) {
        caught = err;
      }
      expect(caught).toBeInstanceOf(SyncMlError);
      expect((caught as Error).cause).toBeInstanceOf(XmlError);
    }
    expect(() => decodeSyncMl(clientMsg('<Alert/>'.repeat(10)), { maxElements: 20 })).toThrow(SyncMlError);
    expect(() => decodeSyncMl(Buffer.alloc(5 * 1024 * 1024, 0x20))).toThrow(/too large/);
  });
});

describe('encodeSyncMl', () => {
  const frame: Omit<ServerMessage, 'commands'> = {
    sessionId: '1',
    msgId: 2,
    target: DEVICE,
    source: SERVER_URL,
    statuses: [],
    final: true,
  };
  const uuid = 'a1b2c3d4-0000-4000-8000-000000000001';

  it('writes items in Target, Source, Meta (Format, Type with metinf), Data order, escaping every text', () => {
    const xml = encodeSyncMl({
      ...frame,
      commands: [
        {
          kind: 'Replace',
          cmdId: uuid,
          items: [
            {
              target: './Vendor/MSFT/WiFi/Profile/Corp%20Net/WlanXml',
              meta: { type: 'text/plain', format: 'xml' },
              data: '<wlan>&amp;</wlan>',
            },
          ],
        },
      ],
    });
    expect(xml).toContain(
      `<Replace><CmdID>${uuid}</CmdID><Item><Target><LocURI>./Vendor/MSFT/WiFi/Profile/Corp%20Net/WlanXml</LocURI></Target>` +
        '<Meta><Format xmlns="syncml:metinf">xml</Format><Type xmlns="syncml:metinf">text/plain</Type></Meta>' +
        '<Data>&lt;wlan&gt;&amp;amp;&lt;/wlan&gt;</Data></Item></Replace><Final/></SyncBody></SyncML>',
    );
    expect(xml).not.toContain('CDATA');
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?><SyncML xmlns="SYNCML:SYNCML1.2"><SyncHdr><VerDTD>1.2</VerDTD>')).toBe(
      true,
    );
    expect(encodeSyncMl({ ...frame, final: false, commands: [] })).not.toContain('Final');
  });

  it('round-trips every server command through the client decoder', () => {
    const commands: ServerCommand[] = [
      { kind: 'Get', cmdId: '1', items: [{ target: './DevDetail/SwV' }, { target: './DevDetail/Ext/Microsoft/DeviceName' }] },
      {
        kind: 'Add',
        cmdId: uuid,
        items: [
          {
            target: './Device/Vendor/MSFT/WiFi/Profile/Corp/WlanXml',
            meta: { format: 'xml', type: 'text/plain' },
            data: '<wlan>&amp;</wlan>',
          },
        ],
      },
      { kind: 'Replace', cmdId: '3', items: [{ target: './User/Vendor/MSFT/Policy/Config/X/Y', meta: { format: 'int' }, data: '0' }] },
      { kind: 'Delete', cmdId: '4', items: [{ target: './Vendor/MSFT/Policy/Config/X/Z' }] },
      {
        kind: 'Exec',
        cmdId: '5',
        items: [{ target: './Device/Vendor/MSFT/Reboot/RebootNow', meta: { format: 'null', type: 'text/plain' }, data: '' }],
      },
      {
        kind: 'Atomic',
        cmdId: '6',
        commands: [
          {
            kind: 'Add',
            cmdId: 'b1b2c3d4-0000-4000-8000-000000000002',
            items: [{ target: './Vendor/MSFT/A', meta: { format: 'chr' }, data: 'x "y" \'z\' <t>' }],
          },
          { kind: 'Replace', cmdId: '8', items: [{ target: './Vendor/MSFT/B', data: 'é \u{1F600}\ttab\nline' }] },
          { kind: 'Exec', cmdId: '9', items: [{ target: './Vendor/MSFT/DMClient/Unenroll', meta: { format: 'chr' }, data: 'winroll' }] },
        ],
      },
      {
        kind: 'Sequence',
        cmdId: '10',
        commands: [
          { kind: 'Get', cmdId: '11', items: [{ target: './DevDetail/SwV' }] },
          { kind: 'Atomic', cmdId: '12', commands: [{ kind: 'Delete', cmdId: '13', items: [{ target: './Vendor/MSFT/C' }] }] },
        ],
      },
      { kind: 'Alert', cmdId: '14', data: ALERT.nextMessage, items: [] },
      { kind: 'Alert', cmdId: '15', data: ALERT.sessionAbort, items: [] },
    ];
    const statuses = [{ cmdId: '16', msgRef: 2, cmdRef: '0', cmd: 'SyncHdr', data: 200, targetRefs: [DEVICE], sourceRefs: [SERVER_URL] }];
    const xml = encodeSyncMl({ ...frame, statuses, commands });
    expect(xml).toContain('<Data>&lt;wlan&gt;&amp;amp;&lt;/wlan&gt;</Data>');
    const decoded = decodeServerMessage(xml);
    const withMoreData = (list: ServerCommand[]): unknown[] =>
      list.map((c) =>
        'commands' in c ? { ...c, commands: withMoreData(c.commands) } : { ...c, items: c.items.map((i) => ({ ...i, moreData: false })) },
      );
    expect(decoded.commands).toEqual(withMoreData(commands));
    expect(decoded.statuses).toEqual(statuses);
    expect(decoded.header).toEqual({ verDtd: '1.2', verProto: 'DM/1.2', sessionId: '1', msgId: 2, target: DEVICE, source: SERVER_URL });
    expect(decoded.final).toBe(true);
  });

  it('refuses what Windows rejects', () => {
    const add = (cmdId: string, target = './Vendor/MSFT/A'): ServerCommand => ({ kind: 'Add', cmdId, items: [{ target, data: '1' }] });
    const bad: Array<[string, ServerCommand[], RegExp]> = [
      [
        'nested Atomic',
        [{ kind: 'Atomic', cmdId: '1', commands: [{ kind: 'Atomic', cmdId: '2', commands: [add('3')] }] }],
        /Atomic must not be nested/,
      ],
      [
        'Get inside Atomic',
        [{ kind: 'Atomic', cmdId: '1', commands: [{ kind: 'Get', cmdId: '2', items: [{ target: './a' }] }] }],
        /Get is not allowed inside Atomic/,
      ],
      [
        'Sequence inside Atomic',
        [{ kind: 'Atomic', cmdId: '1', commands: [{ kind: 'Sequence', cmdId: '2', commands: [add('3')] }] }],
        /inside Atomic/,
      ],
      [
        'nested Atomic via Sequence',
        [
          {
            kind: 'Sequence',
            cmdId: '1',
            commands: [{ kind: 'Atomic', cmdId: '2', commands: [{ kind: 'Atomic', cmdId: '3', commands: [add('4')] }] }],
          },
        ],
        /nested/,
      ],
      ['an empty Atomic', [{ kind: 'Atomic', cmdId: '1', commands: [] }], /at least one command/],
      [
        'Add then Replace of one node in an Atomic',
        [
          {
            kind: 'Atomic',
            cmdId: '1',
            commands: [add('2', './a/b'), { kind: 'Replace', cmdId: '3', items: [{ target: './a/b', data: '2' }] }],
          },
        ],
        /Add then Replace/,
      ],
      ['a LocURI with a leading slash', [add('1', '/Vendor/MSFT/A')], /must not start with "\/"/],
      ['a leading slash inside Atomic', [{ kind: 'Atomic', cmdId: '1', commands: [add('2', '/x')] }], /must not start with "\/"/],
      ['an empty CmdID', [add('')], /must not be empty/],
      ['CmdID 0', [add('0')], /must not be 0/],
      ['a duplicate CmdID', [add('1'), { kind: 'Atomic', cmdId: '2', commands: [add('1', './b')] }], /used twice/],
      ['a CmdID over 64 characters', [add('x'.repeat(65))], /longer than 64/],
      ['a command without items', [{ kind: 'Replace', cmdId: '1', items: [] }], /at least one Item/],
      ['Exec with two items', [{ kind: 'Exec', cmdId: '1', items: [{ target: './a' }, { target: './b' }] }], /exactly one Item/],
    ];
    for (const [name, commands, why] of bad) {
      expect(() => encodeSyncMl({ ...frame, commands }), name).toThrow(SyncMlError);
      expect(() => encodeSyncMl({ ...frame, commands }), name).toThrow(why);
    }
    expect(() =>
      encodeSyncMl({ ...frame, statuses: [{ cmdId: '1', msgRef: 1, cmdRef: '0', cmd: 'SyncHdr', data: 200 }], commands: [add('1')] }),
    ).toThrow(/used twice/);
    expect(() => encodeSyncMl({ ...frame, msgId: 0, commands: [] })).toThrow(/MsgID/);
    expect(() => encodeSyncMl({ ...frame, sessionId: '', commands: [] })).toThrow(/SessionID/);
    expect(() =>
      encodeSyncMl({ ...frame, commands: [{ kind: 'Replace', cmdId: '1', items: [{ target: './a', data: 'bell \u0007' }] }] }),
    ).toThrow(XmlError);
  });
});

describe('fitToSize', () => {
  const msg = decodeSyncMl(readCapture(SESSION1));
  const statuses = statusesFor(msg, () => STATUS.ok);
  const frame = { ...replyHeader(msg, SERVER_URL), statuses, final: true };
  const ids = new CmdIdAllocator(statuses.length + 1);
  const commands: ServerCommand[] = Array.from({ length: 200 }, (_, i) => ({
    kind: 'Replace',
    cmdId: ids.next(),
    items: [{ target: `./Device/Vendor/MSFT/Policy/Config/Test/Setting${i}`, meta: { format: 'chr' }, data: `${i}:`.padEnd(900, 'é') }],
  }));

  it('measures commands exactly as they are written', () => {
    const one = must(commands[0]);
    const whole = encodeSyncMl({ ...frame, commands: [one] });
    expect(Buffer.byteLength(whole)).toBe(frameSize(frame) + estimateSize(one));
    expect(estimateSize(one)).toBe(Buffer.byteLength(encodeServerCommand(one)));
  });

  it('splits a large batch into messages that each stay under the budget, keeping order', () => {
    const batches = fitToSize(commands, DEFAULT_MAX_MSG_SIZE, { frame });
    expect(batches.length).toBeGreaterThan(1);
    for (const batch of batches) {
      expect(batch.length).toBeGreaterThan(0);
      expect(Buffer.byteLength(encodeSyncMl({ ...frame, commands: batch }))).toBeLessThanOrEqual(DEFAULT_MAX_MSG_SIZE);
    }
    expect(batches.flat()).toEqual(commands);
    // Greedy: a batch plus the next command would not have fitted.
    const first = must(batches[0]);
    const next = must(batches[1]?.[0]);
    expect(Buffer.byteLength(encodeSyncMl({ ...frame, commands: [...first, next] }))).toBeGreaterThan(DEFAULT_MAX_MSG_SIZE);
  });

  it('honours a small device MaxMsgSize, a command cap, and sends an oversize command alone', () => {
    const small = fitToSize(commands.slice(0, 10), 8192, { frame });
    expect(small.length).toBeGreaterThanOrEqual(3);
    for (const batch of small) expect(Buffer.byteLength(encodeSyncMl({ ...frame, commands: batch }))).toBeLessThanOrEqual(8192);
    expect(fitToSize(commands.slice(0, 10), DEFAULT_MAX_MSG_SIZE, { frame, maxCommands: 3 }).map((b) => b.length)).toEqual([3, 3, 3, 1]);
    const huge: ServerCommand = { kind: 'Add', cmdId: 'big', items: [{ target: './Vendor/MSFT/Big', data: 'x'.repeat(10_000) }] };
    expect(fitToSize([must(commands[0]), huge, must(commands[1])], 8192, { frame }).map((b) => b.map((c) => c.cmdId))).toEqual([
      ['5'],
      ['big'],
      ['6'],
    ]);
    expect(fitToSize([], 8192)).toEqual([]);
  });
});
