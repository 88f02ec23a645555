/**
 * DNS checks: whether each domain's EnterpriseEnrollment and EnterpriseRegistration records let Windows
 * find this server, and the records to create (the same JSON as `winroll dns check --json` and
 * `winroll dns records --json`). Reads only; every admin role may run them.
 */
import { z } from 'zod';
import { ANY_ROLE } from '../../../core/admin/roles.js';
import { MAX_DOMAINS, MAX_RESOLVERS } from '../../../core/dns/checker.js';
import { CLOUD_PROFILE_IDS } from '../../../core/dns/profiles.js';
import { VERDICTS } from '../../../core/dns/verdict.js';
import { type ApiRoute, route } from '../route.js';

const ProfileSchema = z
  .enum(CLOUD_PROFILE_IDS)
  .describe('What the records should point to: this server (winroll) or Intune (commercial, US Government)');

const ResolverViewSchema = z.object({
  resolver: z.string(),
  verdict: z.enum(VERDICTS),
  target: z.string().nullable(),
  ttl: z.number().int().nullable(),
  reason: z.string(),
});

const RecordCheckSchema = z.object({
  name: z.string().describe('The record checked, e.g. EnterpriseEnrollment.contoso.com'),
  verdict: z.enum(VERDICTS),
  target: z.string().nullable().describe("The CNAME's own target (for an address record instead: the addresses)"),
  ttl: z.number().int().nullable().describe('TTL of the record itself (the CNAME, not the address), seconds'),
  chain: z.array(z.object({ name: z.string(), type: z.enum(['CNAME', 'A', 'AAAA']), value: z.string(), ttl: z.number().int() })),
  reason: z.string(),
  propagating: z.boolean().optional().describe('With several resolvers: true when they disagree (propagation in progress)'),
  resolvers: z.array(ResolverViewSchema).optional().describe('With several resolvers: what each said'),
});

const ReportSchema = z.object({
  ok: z.boolean().describe('Every checked domain is ok'),
  profile: ProfileSchema,
  checkedAt: z.string(),
  resolvers: z.array(z.string()),
  reminder: z.string(),
  domains: z.array(
    z.object({
      domain: z.string(),
      ok: z.boolean(),
      enrollment: RecordCheckSchema,
      registration: RecordCheckSchema,
      https: z
        .record(z.string(), z.unknown())
        .nullable()
        .describe('The HTTPS probe of enterpriseenrollment.<domain>; null when not probed'),
    }),
  ),
});

const RecordsSchema = z.object({
  profile: ProfileSchema,
  ttl: z.number().int(),
  domains: z.array(
    z.object({
      domain: z.string(),
      manualServerName: z.string().describe('What users type when the enrollment record is missing'),
      records: z.array(
        z.object({
          name: z.string(),
          type: z.literal('CNAME'),
          ttl: z.number().int(),
          target: z.string(),
          purpose: z.string(),
          required: z.boolean(),
          line: z.string().describe('The zone-file line'),
        }),
      ),
    }),
  ),
  lines: z.array(z.string()).describe('Every zone-file line, ready to paste'),
});

const hostList = (max: number) => z.array(z.string().min(1).max(253)).max(max);

export const dnsRoutes: ApiRoute[] = [
  route({
    method: 'POST',
    path: '/dns/check',
    operationId: 'checkDns',
    summary: 'Check the DNS records of domains',
    description:
      "For each domain (default: every configured domain) checks EnterpriseEnrollment.<domain> (verdict ok, legacy, wrong-target, not-cname, missing or error, with the target, the CNAME's own TTL, the chain and a reason) and EnterpriseRegistration.<domain>, through the system resolver or the named ones (compared: disagreement is reported as propagation in progress). `ok` is true only when every domain is ok (a missing registration record counts only with `requireRegistration`). The HTTPS probe of enterpriseenrollment.<domain> runs for configured domains only, at the address the server's own resolver gives (other domains: `https: null`). The same JSON as `winroll dns check --json`.",
    tag: 'dns',
    access: ANY_ROLE,
    body: z
      .object({
        domains: hostList(MAX_DOMAINS).optional().describe('UPN suffixes; default every configured domain'),
        resolvers: z
          .array(z.string().min(1).max(64))
          .max(MAX_RESOLVERS)
          .optional()
          .describe('Resolvers to ask, `ip` or `ip:port` (`[v6]:port`); default the server’s system resolver'),
        profile: ProfileSchema.optional(),
        legacyTargets: hostList(10).optional().describe('Hosts that redirect to this server, on top of the configured ones'),
        registrationTarget: z
          .string()
          .min(1)
          .max(253)
          .optional()
          .describe('Device registration service; default EnterpriseRegistration.windows.net'),
        requireRegistration: z.boolean().optional(),
        timeoutMs: z.number().int().min(50).max(10_000).optional().describe('Per query try (two tries); default 2000'),
        https: z.boolean().optional().describe('Run the HTTPS probe (default true)'),
      })
      .optional(),
    response: { status: 200, description: 'The report.', schema: ReportSchema },
    errors: [422],
    async handler({ body, deps }) {
      return deps.dns.check(body ?? {});
    },
  }),
  route({
    method: 'GET',
    path: '/dns/records',
    operationId: 'getDnsRecords',
    summary: 'The DNS records to create for domains',
    description:
      'Zone-file lines (TTL 3600) for EnterpriseEnrollment.<domain> and EnterpriseRegistration.<domain>, per profile. `domain` may be repeated or comma-separated. The same JSON as `winroll dns records --json`.',
    tag: 'dns',
    access: ANY_ROLE,
    query: z.object({
      domain: z
        .union([z.string().min(1).max(4096), z.array(z.string().min(1).max(253)).max(MAX_DOMAINS)])
        .transform((v) =>
          [v]
            .flat()
            .flatMap((d) => d.split(','))
            .map((d) => d.trim())
            .filter(Boolean),
        )
        .describe('A domain; repeat or separate with commas for several'),
      profile: ProfileSchema.optional(),
      registrationTarget: z.string().min(1).max(253).optional(),
    }),
    response: { status: 200, description: 'The records.', schema: RecordsSchema },
    errors: [422],
    async handler({ query, deps }) {
      return deps.dns.records(query.domain, query.profile, { registrationTarget: query.registrationTarget });
    },
  }),
];
