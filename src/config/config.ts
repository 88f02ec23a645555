/**
 * The one place that reads process.env. Precedence: CLI flags > WINROLL_* environment > defaults.
 * Every flag has an environment twin so containers and service units need no command-line edits.
 */
import path from 'node:path';
import { z } from 'zod';

const hostName = z
  .string()
  .min(1)
  .max(253)
  .regex(/^[A-Za-z0-9.-]+$|^\[[0-9A-Fa-f:]+\]$/, 'must be a DNS name or an IP address');

const port = z.coerce.number().int().min(0).max(65535);

export const configSchema = z.object({
  dataDir: z.string().min(1),
  publicHost: hostName,
  port,
  managementPort: port,
  /** Address to bind; undefined means every interface (IPv6 and IPv4). */
  listen: z.string().min(1).optional(),
  databaseUrl: z.string().min(1),
  tlsCertFile: z.string().min(1).optional(),
  tlsKeyFile: z.string().min(1).optional(),
  /** Validity of device certificates, in days. */
  deviceCertValidityDays: z.coerce.number().int().min(1).max(3650),
  /**
   * RSA size of the CAs Winroll creates (enrollment root, local TLS root). They live 10 years, past
   * 2030, when 2048-bit RSA stops being enough (NIST SP 800-57): 4096 by default, as the root of the
   * Windows capture that was accepted. Device and TLS server keys stay 2048-bit.
   */
  caKeyBits: z.coerce
    .number()
    .int()
    .refine((n) => n === 2048 || n === 3072 || n === 4096, 'must be 2048, 3072 or 4096'),
  /** Shown to users by Windows in Settings > Accounts > Access work or school. */
  organizationName: z.string().min(1).max(128),
  logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']),
  /**
   * Behind a TLS-terminating proxy: the request header carrying the device's client certificate
   * (RFC 9440 `Client-Cert`, or nginx's URL-encoded PEM). Off by default: anyone who can reach the
   * management port could otherwise claim any certificate.
   */
  trustedProxyCertHeader: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, 'must be a header name')
    .transform((h) => h.toLowerCase())
    .optional(),
  /** Peer addresses allowed to send that header; required with it. */
  trustedProxies: z.array(z.string().min(1)),
  /**
   * WNS push (optional): the package family name devices register with, and the Partner Center
   * identity (Package SID and secret) used to send raw notifications. Without them, devices check in
   * on their poll schedule only.
   */
  wns: z
    .object({
      pfn: z.string().min(1).max(256),
      packageSid: z.string().regex(/^S-1-15-2-[\d-]+$/, 'must be a package SID (S-1-15-2-...)'),
      clientSecret: z.string().min(1),
      tokenUrl: z.url().optional(),
      channelHosts: z.array(z.string().min(1)).optional(),
    })
    .optional(),
  /**
   * DNS check (`winroll dns check`, `POST /api/v1/dns/check`): hosts that redirect to this server, so an
   * EnterpriseEnrollment CNAME there is reported as `legacy` (works, with a prompt), and another device
   * registration service than Entra's for EnterpriseRegistration CNAMEs.
   */
  dnsLegacyTargets: z.array(hostName),
  dnsRegistrationTarget: hostName.optional(),
});

export type Config = Readonly<z.infer<typeof configSchema>>;

/** Flags as the CLI parsed them; undefined means "not given". */
export interface ConfigFlags {
  dataDir?: string | undefined;
  publicHost?: string | undefined;
  port?: string | number | undefined;
  managementPort?: string | number | undefined;
  listen?: string | undefined;
  databaseUrl?: string | undefined;
  tlsCert?: string | undefined;
  tlsKey?: string | undefined;
  deviceCertValidityDays?: string | number | undefined;
  caKeyBits?: string | number | undefined;
  organizationName?: string | undefined;
  logLevel?: string | undefined;
  trustedProxyCertHeader?: string | undefined;
  trustedProxies?: string | undefined;
  wnsPfn?: string | undefined;
  wnsPackageSid?: string | undefined;
  wnsTokenUrl?: string | undefined;
  /** Comma-separated, or repeated flags joined by the CLI. */
  dnsLegacyTargets?: string | string[] | undefined;
  dnsRegistrationTarget?: string | undefined;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export function loadConfig(flags: ConfigFlags = {}, env: NodeJS.ProcessEnv = process.env): Config {
  const dataDir = path.resolve(flags.dataDir ?? env.WINROLL_DATA_DIR ?? './data');
  const raw = {
    dataDir,
    publicHost: flags.publicHost ?? env.WINROLL_PUBLIC_HOST ?? 'localhost',
    port: flags.port ?? env.WINROLL_PORT ?? 8443,
    managementPort: flags.managementPort ?? env.WINROLL_MANAGEMENT_PORT ?? 8444,
    listen: flags.listen ?? env.WINROLL_LISTEN ?? undefined,
    databaseUrl: flags.databaseUrl ?? env.WINROLL_DATABASE_URL ?? `sqlite:${path.join(dataDir, 'winroll.db')}`,
    tlsCertFile: flags.tlsCert ?? env.WINROLL_TLS_CERT ?? undefined,
    tlsKeyFile: flags.tlsKey ?? env.WINROLL_TLS_KEY ?? undefined,
    deviceCertValidityDays: flags.deviceCertValidityDays ?? env.WINROLL_DEVICE_CERT_VALIDITY_DAYS ?? 365,
    caKeyBits: flags.caKeyBits ?? env.WINROLL_CA_KEY_BITS ?? 4096,
    organizationName: flags.organizationName ?? env.WINROLL_ORGANIZATION_NAME ?? 'Winroll',
    logLevel: flags.logLevel ?? env.WINROLL_LOG_LEVEL ?? 'info',
    trustedProxyCertHeader: flags.trustedProxyCertHeader ?? env.WINROLL_TRUSTED_PROXY_CERT_HEADER ?? undefined,
    trustedProxies: (flags.trustedProxies ?? env.WINROLL_TRUSTED_PROXIES ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    wns: wnsConfig(flags, env),
    dnsLegacyTargets: [flags.dnsLegacyTargets ?? env.WINROLL_DNS_LEGACY_TARGETS ?? '']
      .flat()
      .flatMap((s) => s.split(','))
      .map((s) => s.trim())
      .filter(Boolean),
    dnsRegistrationTarget: flags.dnsRegistrationTarget ?? env.WINROLL_DNS_REGISTRATION_TARGET ?? undefined,
  };
  const parsed = configSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.join('.') ?? 'config';
    throw new ConfigError(`invalid ${where}: ${issue?.message ?? 'invalid value'}`);
  }
  const cfg = parsed.data;
  if ((cfg.tlsCertFile === undefined) !== (cfg.tlsKeyFile === undefined)) {
    throw new ConfigError('--tls-cert and --tls-key must be given together');
  }
  if (cfg.trustedProxyCertHeader && cfg.trustedProxies.length === 0) {
    throw new ConfigError('--trusted-proxy-cert-header needs --trusted-proxies (the proxy addresses allowed to send it)');
  }
  if (cfg.port !== 0 && cfg.port === cfg.managementPort) {
    throw new ConfigError('--port and --management-port must differ');
  }
  return Object.freeze(cfg);
}

function wnsConfig(flags: ConfigFlags, env: NodeJS.ProcessEnv) {
  const pfn = flags.wnsPfn ?? env.WINROLL_WNS_PFN;
  const packageSid = flags.wnsPackageSid ?? env.WINROLL_WNS_PACKAGE_SID;
  // The secret comes from the environment only, so it never shows in `ps` output or shell history.
  const clientSecret = env.WINROLL_WNS_CLIENT_SECRET;
  if (!pfn && !packageSid && !clientSecret) return undefined;
  if (!pfn || !packageSid || !clientSecret) {
    throw new ConfigError('push needs all of --wns-pfn, --wns-package-sid and WINROLL_WNS_CLIENT_SECRET');
  }
  const tokenUrl = flags.wnsTokenUrl ?? env.WINROLL_WNS_TOKEN_URL;
  const hosts = env.WINROLL_WNS_CHANNEL_HOSTS?.split(',')
    .map((h) => h.trim())
    .filter(Boolean);
  return { pfn, packageSid, clientSecret, ...(tokenUrl ? { tokenUrl } : {}), ...(hosts?.length ? { channelHosts: hosts } : {}) };
}

/** The database URL with any password masked, for logs and error messages. */
export function redactDatabaseUrl(url: string): string {
  return url.replace(/^(\w+:\/\/[^:/@]+:)[^@]*@/, '$1***@');
}
