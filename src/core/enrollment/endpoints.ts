/** The absolute URLs Winroll hands to devices; built by the composition root from config and bound ports. */
export interface EnrollmentUrls {
  /** `https://<public-host>:<port>/EnrollmentServer/Discovery.svc` */
  discovery: string;
  policy: string;
  enrollment: string;
  /** Federated sign-in page (AuthenticationServiceUrl). */
  authentication: string;
  /** OMA-DM management endpoint (w7 ADDR), on the client-certificate port. */
  management: string;
  /**
   * Certificate renewal (ROBO), provisioned as CertificateStore/My/WSTEP/Renew/ServerURL. On the
   * management listener because the device authenticates with its current certificate over TLS.
   */
  renewal: string;
}

export const PATHS = {
  discovery: '/EnrollmentServer/Discovery.svc',
  policy: '/EnrollmentServer/Policy.svc',
  enrollment: '/EnrollmentServer/Enrollment.svc',
  authentication: '/EnrollmentServer/Auth',
  /** The MDM terms-of-use page Entra ID join and "add work account" open (the default MDM terms-of-use URL). */
  termsOfUse: '/EnrollmentServer/TermsOfUse',
  management: '/ManagementServer/MDM.svc',
  renewal: '/EnrollmentServer/Renewal.svc',
} as const;

export function buildEnrollmentUrls(publicHost: string, port: number, managementPort: number): EnrollmentUrls {
  const base = `https://${publicHost}${port === 443 ? '' : `:${port}`}`;
  const mgmt = `https://${publicHost}${managementPort === 443 ? '' : `:${managementPort}`}`;
  return {
    discovery: base + PATHS.discovery,
    policy: base + PATHS.policy,
    enrollment: base + PATHS.enrollment,
    authentication: base + PATHS.authentication,
    management: mgmt + PATHS.management,
    renewal: mgmt + PATHS.renewal,
  };
}
