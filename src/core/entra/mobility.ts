/**
 * What an admin pastes into Entra ID's Mobility (MDM and MAM) settings so the directory hands joined and
 * registered devices to Winroll (`winroll entra urls`, `GET /api/v1/entra/urls`): the MDM discovery,
 * terms-of-use and compliance URLs (the tenant settings' MDM URLs, Winroll's own pages by default), the MAM
 * enrollment, terms-of-use and compliance URLs, the application ID URI, and the steps in order.
 */
import type { TenantSettings } from '../policy/ports.js';
import { effectiveMdmUrls } from '../policy/policy-admin.js';
import type { EntraTenant } from './ports.js';

/** Where app-protection (MAM) registration is served (core/enrollment, MAM registration). */
export const MAM_ENROLLMENT_PATH = '/EnrollmentServer/MAM/Enrollment.svc';

export interface MobilitySettings {
  /** The application ID URI to give the app: tokens Windows presents carry it as their audience. */
  applicationIdUri: string;
  mdm: { discoveryUrl: string; termsOfUseUrl: string; complianceUrl: string };
  mam: { enrollmentUrl: string; termsOfUseUrl: string; complianceUrl: string };
  /** Connected tenants (id and client id), so the admin sees what is already done. */
  tenants: Array<{ tenantId: string; clientId: string }>;
  steps: string[];
}

/** `webBase`: `https://host[:port]` of the web listener as devices reach it. */
export function mobilitySettings(urls: TenantSettings['urls'], webBase: string, tenants: EntraTenant[]): MobilitySettings {
  const base = webBase.replace(/\/+$/, '');
  const mdm = effectiveMdmUrls(urls, base);
  const connected = tenants.map((t) => ({ tenantId: t.tenantId, clientId: t.clientId }));
  const example = connected[0];
  return {
    applicationIdUri: base,
    mdm: { discoveryUrl: mdm.discovery, termsOfUseUrl: mdm.termsOfUse, complianceUrl: mdm.compliance },
    mam: { enrollmentUrl: `${base}${MAM_ENROLLMENT_PATH}`, termsOfUseUrl: mdm.termsOfUse, complianceUrl: mdm.compliance },
    tenants: connected,
    steps: [
      'In the Microsoft Entra admin center open Mobility (MDM and MAM), choose "Add application", then "Create your own application", and name it (for example Winroll). Entra creates the MDM and the MAM application under that name.',
      'In the MDM application, set the MDM user scope (None, Some or All) and paste the MDM discovery URL, terms of use URL and compliance URL shown here. Winroll applies its own MDM and MAM user scopes as well (winroll scope show).',
      'In the MAM application, set the MAM user scope if you use app protection and paste the MAM enrollment (discovery) URL, terms of use URL and compliance URL shown here; leave the scope at None otherwise.',
      `Open the application's registration ("On-premises MDM application settings"), go to Expose an API, and set the Application ID URI to ${base} exactly: it is the audience of the tokens Windows brings, and Winroll refuses any other.`,
      'Keep the delegated scope Entra offers for that URI (for example user_impersonation). Winroll records the scp and roles claims in its logs but requires no particular value.',
      "Copy the Directory (tenant) ID and the Application (client) ID from the registration's Overview.",
      example
        ? `Connect them here: winroll entra connect --tenant-id ${example.tenantId} --client-id ${example.clientId} (already done for the tenants listed; connecting again with the same values changes nothing).`
        : "Connect them here: winroll entra connect --tenant-id <directory id> --client-id <application id>. Signing keys are fetched from the tenant's published key URL unless you give --jwks-url or --jwks-file.",
      'Check with a test device: join it to the directory (or add a work account) and follow the attempt with winroll attempts list.',
    ],
  };
}
