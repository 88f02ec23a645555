/**
 * Discovery answers only for configured domains, whether Windows came through the CNAME (Host:
 * enterpriseenrollment.<domain>) or the user typed the server name: the domain comes from the e-mail
 * address, the Host name stands in only when the address names none (DOMAIN\user). Unknown domains get
 * a fault naming the domain and the command that fixes it, the same either way; the fix works at once.
 */
import { execFile } from 'node:child_process';
import https from 'node:https';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import { decodeDiscoverResponse, encodeDiscoverRequest } from '../../src/protocol/mde2/discover.js';
import { decodeSoapEnvelope } from '../../src/protocol/soap/envelope.js';
import { windowsHResultForFault } from '../../src/protocol/soap/fault-hresult.js';
import type { HttpResponse } from '../../src/simulator/https-client.js';
import { faultOf, soapBody } from '../support/http.js';
import { ENGINES, type TestServer, itOn, startTestServer } from '../support/server.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/winroll.js');
const exec = promisify(execFile);

describe.each(ENGINES)('discovery by domain (%s)', (engine) => {
  let t: TestServer | undefined;
  const run = itOn(engine);
  const srv = () => t as TestServer;
  const cliData = () => ['--data-dir', srv().dataDir, ...(srv().databaseUrl ? ['--database-url', srv().databaseUrl as string] : [])];

  beforeAll(async () => {
    t = await startTestServer(engine);
    if (!t) return;
    await t.addDomain('contoso.test');
    await t.addDomain('fabrikam.test', 'Federated');
  }, 60_000);
  afterAll(async () => {
    await t?.stop();
  });

  /**
   * POST a Discover as Windows does. `host` is the name Windows connected to (SNI and Host header); the
   * TLS root is trusted but the name is not checked here: the HTTPS probe tests cover the certificate.
   */
  function discover(email: string, host?: string): Promise<HttpResponse> {
    const body = Buffer.from(
      encodeDiscoverRequest({
        messageId: 'urn:uuid:748132ec-a575-4329-b01b-6171a9cf8478',
        to: `https://${host ?? 'localhost'}/EnrollmentServer/Discovery.svc`,
        emailAddress: email,
        requestVersion: '6.0',
        applicationVersion: '10.0.22631.2428',
        osEdition: '4',
        authPolicies: ['OnPremise', 'Federated'],
      }),
      'utf8',
    );
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          host: '127.0.0.1',
          port: srv().server.port,
          path: '/EnrollmentServer/Discovery.svc',
          method: 'POST',
          servername: host ?? 'localhost',
          ca: srv().server.tlsRootCaPem,
          checkServerIdentity: () => undefined,
          agent: false,
          headers: {
            'content-type': 'application/soap+xml; charset=utf-8',
            'content-length': String(body.length),
            ...(host ? { host } : { host: `localhost:${srv().server.port}` }),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  }

  const answer = (res: HttpResponse) => decodeDiscoverResponse(decodeSoapEnvelope(soapBody(res)));

  run('a configured domain is answered by e-mail (server name typed) and through the CNAME alike', async () => {
    const typed = answer(await discover('alice@contoso.test'));
    const viaCname = answer(await discover('alice@contoso.test', 'enterpriseenrollment.contoso.test'));
    const viaCnameWithPort = answer(await discover('alice@contoso.test', 'EnterpriseEnrollment.Contoso.Test:443'));
    expect(typed.authPolicy).toBe('OnPremise');
    expect(typed.enrollmentServiceUrl).toBe(`https://localhost:${srv().server.port}/EnrollmentServer/Enrollment.svc`);
    expect(viaCname).toEqual(typed);
    expect(viaCnameWithPort).toEqual(typed);
    // The address's domain is matched whatever its case; each domain keeps its own sign-in policy.
    expect(answer(await discover('Bob@FABRIKAM.test', 'enterpriseenrollment.fabrikam.test')).authPolicy).toBe('Federated');
    const logged = srv().logs.filter(
      (l) => l.includes('"domain":"contoso.test"') && l.includes('"via":"enterpriseenrollment.contoso.test"'),
    );
    expect(logged.length).toBeGreaterThanOrEqual(2);
  });

  run('a DOMAIN\\user address names no domain: the enrollment name decides, the public host cannot', async () => {
    expect(answer(await discover('CONTOSO\\alice', 'enterpriseenrollment.contoso.test')).authPolicy).toBe('OnPremise');
    const f = faultOf(await discover('CONTOSO\\alice'));
    expect(f.errorType).toBe('NotSupported');
    expect(f.reason).toBe(
      'Device management could not tell your organisation from this account. Sign in with your work e-mail address (name@company.com).',
    );
  });

  run('an unknown domain gets a fault naming it and the fix, the same whichever way Windows came', async () => {
    const typed = faultOf(await discover('eve@unknown.test'));
    const viaCname = faultOf(await discover('eve@unknown.test', 'enterpriseenrollment.unknown.test'));
    const expected =
      'Device management is not set up for unknown.test. Check the address you typed, or ask your IT administrator to add the domain to Winroll (winroll domains add unknown.test).';
    for (const f of [typed, viaCname]) {
      expect(f.subcode).toBe('s:Authorization');
      expect(f.errorType).toBe('NotSupported');
      expect(f.reason).toBe(expected);
      expect(f.message).toBe(expected);
      expect(windowsHResultForFault(f)).toBe(0x80180015);
    }
    // The account decides: reaching a configured domain's name does not enroll someone from another one.
    expect(faultOf(await discover('eve@unknown.test', 'enterpriseenrollment.contoso.test')).reason).toBe(expected);
    // The log names the domain and the name the device used, with the trace id the device shows.
    const line = srv().logs.find((l) => l.includes(viaCname.traceId as string));
    expect(line).toContain('discovery for unknown.test refused: not a configured domain');
    // A configured domain reached under an unconfigured enrollment name (say a wildcard certificate): the account decides.
    expect(answer(await discover('alice@contoso.test', 'enterpriseenrollment.unknown.test')).authPolicy).toBe('OnPremise');
  });

  run('the fix the fault names works at once, without a restart', async () => {
    expect(faultOf(await discover('dana@northwind.test', 'enterpriseenrollment.northwind.test')).reason).toContain(
      'winroll domains add northwind.test',
    );
    await exec(process.execPath, [BIN, 'domains', 'add', 'northwind.test', ...cliData()], { timeout: 60_000 });
    const after = answer(await discover('dana@northwind.test', 'enterpriseenrollment.northwind.test'));
    expect(after.authPolicy).toBe('OnPremise');
    expect(after.enrollmentServiceUrl).toBe(`https://localhost:${srv().server.port}/EnrollmentServer/Enrollment.svc`);
  });
});
