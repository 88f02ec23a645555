/** The Company Portal's API client (/portal/api, the end-user session) and the shapes it answers. */
import { apiAt } from '../shared/api.ts';

export const portalApi = apiAt('/portal/api');

export interface PortalSession {
  upn: string;
  displayName: string | null;
  csrfToken: string;
  expiresAt: string;
}

/** The password was right but the MFA rule asks for a code: `POST /session/code { code }` next. */
export interface CodeNeeded {
  codeNeeded: true;
  upn: string;
}

/** An OIDC provider the sign-in page offers; `href` starts its sign-in (a full navigation). */
export interface OidcProviderChoice {
  id: string;
  name: string;
  href: string;
}

export type Relation = 'primary' | 'shared' | 'other';

export interface DeviceSummary {
  deviceId: string;
  name: string | null;
  ownership: 'personal' | 'corporate';
  mode: 'mdm' | 'mam';
  status: string;
  osVersion: string | null;
  model: string | null;
  manufacturer: string | null;
  lastCheckInAt: string | null;
  primaryUpn: string | null;
  relation: Relation;
  retiredAt: string | null;
}

export interface Permission {
  allowed: boolean;
  reason: string | null;
}

export interface DeviceDetail extends DeviceSummary {
  serialNumber: string | null;
  permissions: { retire: Permission; wipe: Permission; installApp: Permission };
  actions: Array<{ kind: string; state: string; status: number | null; createdAt: string; updatedAt: string }>;
}

export interface TransparencyAction {
  action: string;
  label: string;
  verdict: 'can' | 'cannot';
  reason: string | null;
}

export interface Transparency {
  ownership: 'personal' | 'corporate';
  mode: 'mdm' | 'mam';
  collected: Array<{ locUri: string; label: string }>;
  neverCollected: string[];
  organisationActions: TransparencyAction[];
  yourActions: TransparencyAction[];
}

export interface EnrollInfo {
  upn: string;
  serverName: string;
  organizationName: string;
  link: string;
  qrSvg: string;
  thisDevice: { windows: boolean; platformVersion: string | null; release: string | null } | null;
  steps: string[];
}

export const RELATION_TEXT: Record<Relation, string> = {
  primary: 'You are the primary user',
  shared: 'Shared device',
  other: 'Another person is the primary user',
};

export function deviceTitle(d: Pick<DeviceSummary, 'name' | 'model' | 'deviceId'>): string {
  return d.name ?? d.model ?? d.deviceId;
}
