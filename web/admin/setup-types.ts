/** Shapes of the setup-related API responses (DNS, Entra, profiles, settings) the console reads. */

export type Verdict = 'ok' | 'legacy' | 'wrong-target' | 'not-cname' | 'missing' | 'error';

export interface RecordCheck {
  name: string;
  verdict: Verdict;
  target: string | null;
  ttl: number | null;
  reason: string;
  propagating?: boolean;
  resolvers?: Array<{ resolver: string; verdict: Verdict; target: string | null; ttl: number | null; reason: string }>;
}

export interface HttpsProbe {
  url?: string;
  ok?: boolean;
  reason?: string;
  hresult?: string | null;
}

export interface DnsReport {
  ok: boolean;
  profile: string;
  checkedAt: string;
  resolvers: string[];
  reminder: string;
  domains: Array<{ domain: string; ok: boolean; enrollment: RecordCheck; registration: RecordCheck; https: HttpsProbe | null }>;
}

export interface DnsRecords {
  profile: string;
  ttl: number;
  domains: Array<{
    domain: string;
    manualServerName: string;
    records: Array<{ name: string; type: 'CNAME'; ttl: number; target: string; purpose: string; required: boolean; line: string }>;
  }>;
  lines: string[];
}

export interface Domain {
  name: string;
  authPolicy: 'OnPremise' | 'Federated';
  createdAt: string;
}

export interface EntraTenant {
  tenantId: string;
  clientId: string;
  issuers: string[];
  keys: { url: string } | { stored: number };
  createdAt: string;
  updatedAt: string;
}

export interface EntraUrls {
  applicationIdUri: string;
  mdm: { discoveryUrl: string; termsOfUseUrl: string; complianceUrl: string };
  mam: { enrollmentUrl: string; termsOfUseUrl: string; complianceUrl: string };
  tenants: Array<{ tenantId: string; clientId: string }>;
  steps: string[];
}

export interface ProfileSetting {
  path: string;
  format: 'chr' | 'int' | 'bool' | 'b64' | 'xml' | 'float';
  value: string;
}

export interface Profile {
  id: string;
  name: string;
  scope: 'user' | 'device';
  type: 'custom' | 'wip';
  wip: Record<string, unknown> | null;
  version: number;
  settings: ProfileSetting[];
  createdAt: string;
  updatedAt: string;
}

export interface ProfileDetail extends Profile {
  assignments: Array<{ kind: 'group' | 'device'; group: string | null; device: string | null }>;
}

export interface Scope {
  mode: 'none' | 'some' | 'all';
  groups: Array<{ id: string; name: string }>;
}

export interface EnrollmentSettings {
  mdmScope: Scope;
  mamScope: Scope;
  warnings: string[];
}

export interface Dem {
  userId: string;
  upn: string;
  addedAt: string;
}
