/** Enrolls a simulated PC with the `wresult` token a browser got from the federated sign-in page. */
import { randomUUID } from 'node:crypto';
import { buildWindowsCsr } from '../../src/pki/windows-csr.js';
import { decodeSoapEnvelope } from '../../src/protocol/soap/envelope.js';
import { VALUE_TYPES, WSS } from '../../src/protocol/soap/namespaces.js';
import { type ProvisioningDocView, decodeProvisioningDoc } from '../../src/protocol/wstep/provisioning-doc.js';
import { encodeRequestSecurityToken } from '../../src/protocol/wstep/request-security-token.js';
import { decodeRequestSecurityTokenResponse } from '../../src/protocol/wstep/response.js';
import { type SimulatedDevice, newSimulatedDevice } from '../../src/simulator/device.js';
import { postSoap, soapBody } from './http.js';
import type { TestServer } from './server.js';

export async function enrollWithWresult(t: TestServer, wresult: string): Promise<{ device: SimulatedDevice; doc: ProvisioningDocView }> {
  const device = newSimulatedDevice();
  const xml = encodeRequestSecurityToken({
    messageId: 'urn:uuid:0d5a1441-5891-453b-becf-a2e5f6ea3749',
    to: `${t.base}/EnrollmentServer/Enrollment.svc`,
    security: {
      kind: 'binary',
      valueType: VALUE_TYPES.deviceEnrollmentUserToken,
      encodingType: WSS.base64Binary,
      value: Buffer.from(wresult, 'utf8'),
    },
    csrDer: buildWindowsCsr({
      privateKey: device.privateKey,
      publicKey: device.publicKey,
      deviceId: device.deviceId,
      requestGuid: randomUUID(),
    }),
    requestType: 'Issue',
    context: [
      ['DeviceID', device.deviceId],
      ['EnrollmentType', 'Full'],
    ],
  });
  const res = await postSoap(t.agent, `${t.base}/EnrollmentServer/Enrollment.svc`, xml);
  return { device, doc: decodeProvisioningDoc(decodeRequestSecurityTokenResponse(decodeSoapEnvelope(soapBody(res)))) };
}
