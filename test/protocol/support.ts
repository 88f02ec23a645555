// Test support: loads the real Windows captures kept in ../shared beside the repository (see captures/README.md).
import { readFileSync } from 'node:fs';

const root = new URL('../../../shared/conformance/captures/', import.meta.url);

export function readCapture(relativePath: string): Buffer {
  return readFileSync(new URL(relativePath, root));
}

export function readCaptureText(relativePath: string): string {
  return readCapture(relativePath).toString('utf8');
}

/** DER bytes of a PEM file from the captures. */
export function readCapturePem(relativePath: string): Buffer {
  const b64 = readCaptureText(relativePath)
    .replace(/-----[^-]+-----/g, '')
    .replace(/\s+/g, '');
  return Buffer.from(b64, 'base64');
}

export const CAPTURES = {
  discover: 'fleet-poc-win10-19043/01-discover.request.xml',
  getPolicies: 'fleet-poc-win10-19043/02-getpolicies-onpremise.request.xml',
  rst: 'fleet-poc-win10-19043/03-rst-enroll-onpremise.request.xml',
  rstCsr: 'fleet-poc-win10-19043/03-rst-enroll-onpremise.csr.pem',
  discoverResponse: 'fleet-poc-win10-19043/accepted-server-output/discover.response.as-logged.xml',
  provisioningDoc: 'fleet-poc-win10-19043/accepted-server-output/provisioningdoc.decoded.xml',
  provisioningDocMarcos: 'marcosd4h-mdm-poc-readme/provisioningdoc.decoded.xml',
  discoverProgrammatic: 'fleet-test-programmatic-win10-19045/discover-programmatic.request.xml',
  rstProgrammatic: 'fleet-test-programmatic-win10-19045/rst-enroll-programmatic-usertoken.request.xml',
  rstProgrammaticCsr: 'fleet-test-programmatic-win10-19045/rst-enroll-programmatic.csr.pem',
} as const;

/** Narrows away undefined, failing the test with a readable message instead of a TypeError later. */
export function must<T>(value: T | undefined | null, what = 'value'): T {
  if (value === undefined || value === null) throw new Error(`expected ${what} to be present`);
  return value;
}
