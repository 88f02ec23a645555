/**
 * The records to create for each domain, as zone-file lines ready to paste (`winroll dns records`,
 * `GET /api/v1/dns/records`). Absolute names (trailing dot), so a line is right in any zone file.
 */
import { InvalidInputError } from '../../shared/errors.js';
import { isIpAddress, parseDomain } from './names.js';
import { type CloudProfile, type CloudProfileId, type DeploymentDns, RECORD_TTL, cloudProfile } from './profiles.js';
import { enrollmentRecordName, registrationRecordName, zoneLine } from './verdict.js';

export interface DnsRecordToCreate {
  name: string;
  type: 'CNAME';
  ttl: number;
  target: string;
  /** What the record is for, in a sentence. */
  purpose: string;
  /** Whether Windows enrollment needs it (the registration record is for conditional access). */
  required: boolean;
  /** The zone-file line. */
  line: string;
}

export interface DomainRecords {
  domain: string;
  records: DnsRecordToCreate[];
  /** What users type when the enrollment record is missing. */
  manualServerName: string;
}

export interface RecordsReport {
  profile: CloudProfileId;
  ttl: number;
  domains: DomainRecords[];
  /** Every line, in order: what to paste. */
  lines: string[];
}

/** Refuses a deployment whose public host is an address: a CNAME can only name a host. */
export function checkedProfile(id: CloudProfileId, deployment: DeploymentDns): CloudProfile {
  if (id === 'winroll' && isIpAddress(deployment.publicHost)) {
    throw new InvalidInputError(
      `this server's public host is an IP address (${deployment.publicHost}); a CNAME must name a host: set --public-host (WINROLL_PUBLIC_HOST) to the name devices reach`,
    );
  }
  return cloudProfile(id, deployment);
}

export function recordsFor(domains: readonly string[], id: CloudProfileId, deployment: DeploymentDns): RecordsReport {
  if (domains.length === 0) throw new InvalidInputError('name at least one domain');
  const profile = checkedProfile(id, deployment);
  const list = [...new Set(domains.map(parseDomain))].map((domain): DomainRecords => {
    const enrollment = enrollmentRecordName(domain);
    const registration = registrationRecordName(domain);
    return {
      domain,
      manualServerName: profile.manualServerName,
      records: [
        {
          name: enrollment,
          type: 'CNAME',
          ttl: RECORD_TTL,
          target: profile.enrollmentTarget,
          purpose: `Windows finds the enrollment server (${profile.label}) from the user's e-mail address; without it users type ${profile.manualServerName}.`,
          required: true,
          line: zoneLine(enrollment, profile.enrollmentTarget),
        },
        {
          name: registration,
          type: 'CNAME',
          ttl: RECORD_TTL,
          target: profile.registrationTarget,
          purpose:
            'Device registration in Entra ID (workplace join), which conditional access relies on; create it if you use conditional access.',
          required: false,
          line: zoneLine(registration, profile.registrationTarget),
        },
      ],
    };
  });
  return { profile: profile.id, ttl: RECORD_TTL, domains: list, lines: list.flatMap((d) => d.records.map((r) => r.line)) };
}
