/** An enrolled simulated PC with an mTLS agent for its management sessions. */
import type https from 'node:https';
import { type SimulatedDevice, generateDeviceKey, newSimulatedDevice } from '../../src/simulator/device.js';
import { type EnrollmentOutcome, enroll } from '../../src/simulator/enroll.js';
import { createAgent } from '../../src/simulator/https-client.js';
import { type CheckInOptions, type CheckInResult, DeviceSideState, checkIn } from '../../src/simulator/manage.js';
import type { TestServer } from './server.js';

const KEY = generateDeviceKey();

export interface ManagedPc {
  device: SimulatedDevice;
  state: DeviceSideState;
  enrolled: EnrollmentOutcome;
  agent: https.Agent;
  /** Runs one whole session; sessions are numbered like Windows does. */
  checkIn(opts?: Pick<CheckInOptions, 'loginStatus' | 'unenroll' | 'userToken'>): Promise<CheckInResult>;
}

export async function enrollPc(
  t: TestServer,
  upn: string,
  password: string,
  enrollmentType: 'Full' | 'Device' = 'Full',
  overrides: Partial<SimulatedDevice> = {},
  /** `directoryToken`: enroll with an Entra access token instead of the password (automatic enrollment). */
  opts: { directoryToken?: string } = {},
): Promise<ManagedPc> {
  const device = newSimulatedDevice({ ...KEY, ...overrides });
  const enrolled = await enroll({ server: t.base, upn, password, enrollmentType, device, agent: t.agent, ...opts });
  const agent = createAgent({
    ca: t.server.tlsRootCaPem,
    cert: enrolled.certificate.toString(),
    key: device.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  });
  const state = new DeviceSideState(device);
  let session = 0;
  return {
    device,
    state,
    enrolled,
    agent,
    // The URL is read at each session: a restarted test server listens on a new port.
    checkIn: (opts = {}) => checkIn({ managementUrl: t.server.urls.management, state, agent, sessionId: String(++session), ...opts }),
  };
}
