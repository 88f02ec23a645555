/**
 * The verdict rules: what one resolver's answer means for EnterpriseEnrollment.<domain> and
 * EnterpriseRegistration.<domain>, in words an admin can act on, and how the answers of several resolvers
 * combine. Pure: the input is a Resolution (resolve.ts), so every case is testable without a network.
 */
import { ENROLLMENT_LABEL, REGISTRATION_LABEL, canonicalName } from './names.js';
import {
  type CloudProfile,
  type DeploymentDns,
  PROPAGATION_HOURS,
  RECORD_TTL,
  type TargetClass,
  classifyEnrollmentTarget,
  classifyRegistrationTarget,
} from './profiles.js';
import { MAX_CHAIN, type Resolution } from './resolve.js';

export const VERDICTS = ['ok', 'legacy', 'wrong-target', 'not-cname', 'missing', 'error'] as const;
export type Verdict = (typeof VERDICTS)[number];

export interface ChainEntry {
  name: string;
  type: 'CNAME' | 'A' | 'AAAA';
  value: string;
  ttl: number;
}

/** What one resolver said, when several were asked. */
export interface ResolverView {
  resolver: string;
  verdict: Verdict;
  target: string | null;
  ttl: number | null;
  reason: string;
}

export interface RecordCheck {
  /** The record checked, e.g. EnterpriseEnrollment.contoso.com. */
  name: string;
  verdict: Verdict;
  /** The CNAME's own target (for an address record instead: the addresses); null when there is none. */
  target: string | null;
  /** The TTL of the record itself (the CNAME's, not the address's), in seconds; null when missing. */
  ttl: number | null;
  /** The CNAMEs in order, then the addresses they lead to. */
  chain: ChainEntry[];
  reason: string;
  /** Present when several resolvers were asked: whether they disagree, and what each said. */
  propagating?: boolean;
  resolvers?: ResolverView[];
}

export interface VerdictContext {
  profile: CloudProfile;
  deployment: DeploymentDns;
}

export const zoneLine = (name: string, target: string) => `${name}. ${RECORD_TTL} IN CNAME ${target}.`;
export const enrollmentRecordName = (domain: string) => `${ENROLLMENT_LABEL}.${domain}`;
export const registrationRecordName = (domain: string) => `${REGISTRATION_LABEL}.${domain}`;

const REGISTRATION_PURPOSE =
  'It is used by device registration in Entra ID (workplace join), which conditional access relies on; enrollment does not need it.';

function chainOf(res: Resolution): ChainEntry[] {
  return res.records.map((r) => ({ name: r.name, type: r.type, value: r.value, ttl: r.ttl }));
}

/** Where and why the chain stops short of an address; null when it reaches one. */
function breakOf(res: Resolution): string | null {
  switch (res.outcome) {
    case 'address':
      return null;
    case 'loop':
      return `a CNAME loop (${[...res.records.map((r) => r.name), res.at].join(' → ')})`;
    case 'too-long':
      return `a chain of more than ${MAX_CHAIN} CNAMEs`;
    case 'nxdomain':
      return `${res.at}, which does not exist (NXDOMAIN)`;
    case 'nodata':
      return `${res.at}, which has no address record (NODATA)`;
    case 'failed':
      return `a failed query for ${res.at} (${res.cause})`;
  }
}

const describeAddresses = (res: Resolution) =>
  res.records
    .filter((r) => r.type !== 'CNAME')
    .map((r) => `${r.type} ${r.value}`)
    .join(', ');

function missingWhy(res: Extract<Resolution, { outcome: 'nxdomain' | 'nodata' }>): string {
  const why =
    res.outcome === 'nxdomain' ? 'NXDOMAIN: the name does not exist' : 'NODATA: the name exists but has no CNAME or address record';
  return why;
}

function negativeNote(res: Resolution): string {
  return 'negativeTtl' in res && res.negativeTtl !== null
    ? ` Resolvers may keep answering "missing" for up to ${res.negativeTtl} s after it is created.`
    : '';
}

/** The first name of the chain the profile knows decides (an alias of your own in front of the target is fine). */
function classifyChain(
  res: Resolution,
  classify: (name: string) => TargetClass | null,
): { cls: TargetClass | null; at: string | null; via: string } {
  const cnames = res.records.filter((r) => r.type === 'CNAME');
  for (const [i, c] of cnames.entries()) {
    const cls = classify(c.value);
    if (cls) {
      const via =
        i === 0
          ? ''
          : ` (through ${cnames
              .slice(1, i + 1)
              .map((x) => x.name)
              .join(' → ')})`;
      return { cls, at: canonicalName(c.value), via };
    }
  }
  return { cls: null, at: null, via: '' };
}

/** What both record checks have in hand once the answer is known to start with a CNAME. */
interface CnameFrame {
  out: (verdict: Verdict, target: string | null, ttl: number | null, reason: string) => RecordCheck;
  res: Resolution;
  /** The CNAME's own target and TTL. */
  target: string;
  ttl: number;
  /** Where the chain stops short of an address, or null. */
  broken: string | null;
  cls: TargetClass | null;
  /** "<name> is a CNAME to <target>", with the aliases passed on the way. */
  cnameTo: string;
}

/**
 * The part the enrollment and registration checks share: no CNAME at all (an address record, nothing, or
 * a failed query) is answered here with the record's own advice; otherwise the chain is classified.
 */
function checkCname(
  name: string,
  res: Resolution,
  classify: (name: string) => TargetClass | null,
  advice: { notCname: (addresses: string) => string; missing: (why: string, negative: string) => string },
): RecordCheck | CnameFrame {
  const chain = chainOf(res);
  const first = res.records.find((r) => r.type === 'CNAME');
  const out = (verdict: Verdict, target: string | null, ttl: number | null, reason: string): RecordCheck => ({
    name,
    verdict,
    target,
    ttl,
    chain,
    reason,
  });

  if (!first) {
    switch (res.outcome) {
      case 'address': {
        const addrs = res.records.filter((r) => r.type !== 'CNAME');
        return out(
          'not-cname',
          addrs.map((r) => r.value).join(', '),
          Math.min(...addrs.map((r) => r.ttl)),
          advice.notCname(describeAddresses(res)),
        );
      }
      case 'nxdomain':
      case 'nodata':
        return out('missing', null, null, advice.missing(missingWhy(res), negativeNote(res)));
      default:
        return out('error', null, null, `The query for ${name} failed: ${res.outcome === 'failed' ? res.cause : res.outcome}.`);
    }
  }

  const target = canonicalName(first.value);
  const { cls, via } = classifyChain(res, classify);
  return { out, res, target, ttl: first.ttl, broken: breakOf(res), cls, cnameTo: `${name} is a CNAME to ${target}${via}` };
}

/** A CNAME to a host the profile does not know: a broken chain is an error, anything else the wrong target. */
function unknownTarget(f: CnameFrame, otherHost: (brokenNote: string) => string): RecordCheck {
  if (f.res.outcome === 'loop' || f.res.outcome === 'too-long' || f.res.outcome === 'failed') {
    return f.out('error', f.target, f.ttl, `${f.cnameTo}, but the chain ends in ${f.broken}.`);
  }
  return f.out('wrong-target', f.target, f.ttl, otherHost(f.broken ? `; the chain ends in ${f.broken}` : ''));
}

export function enrollmentCheck(domain: string, res: Resolution, ctx: VerdictContext): RecordCheck {
  const { profile, deployment } = ctx;
  const name = enrollmentRecordName(domain);
  const expected = profile.enrollmentTarget;
  const line = zoneLine(name, expected);
  const f = checkCname(name, res, (n) => classifyEnrollmentTarget(n, profile, deployment), {
    notCname: (addresses) =>
      `${name} has an address record (${addresses}) instead of a CNAME to ${expected}. Any redirect other than a CNAME is unsupported: Windows then talks to ${name.toLowerCase()} itself, so the certificate there must cover that name, and a plain-HTTP redirect makes Windows ask the user to allow it. Replace it with: ${line}`,
    missing: (why, negative) =>
      `No ${name} record (${why}). Windows will ask users for the server name: they type ${profile.manualServerName}. To spare them that, create: ${line}${negative} Devices that join Entra ID or add a work account with automatic enrollment do not need it: the directory gives them the discovery URL.`,
  });
  if (!('cnameTo' in f)) return f;
  const { out, target, ttl, broken, cls, cnameTo } = f;

  if (cls?.kind === 'expected' || cls?.kind === 'legacy') {
    if (broken) {
      return out('error', target, ttl, `${cnameTo}, ${profile.label}, but the chain ends in ${broken}: Windows cannot connect.`);
    }
    if (cls.kind === 'legacy') {
      return out(
        'legacy',
        target,
        ttl,
        `${cnameTo}, a legacy target of ${profile.label}: enrollment works, but Windows asks the user to confirm a redirect. Point it at ${expected} instead: ${line}`,
      );
    }
    const portNote =
      profile.id === 'winroll' && deployment.port !== 443
        ? ` Windows connects to it on port 443 only; this server listens on ${deployment.port}, so port 443 must reach it.`
        : '';
    return out(
      'ok',
      target,
      ttl,
      `${cnameTo}, ${profile.label}: Windows finds the enrollment server from the user's e-mail address.${portNote}`,
    );
  }
  if (cls?.kind === 'elsewhere') {
    return out(
      'wrong-target',
      target,
      ttl,
      `${cnameTo}, which points to ${cls.label}, not to ${profile.label} (${expected}): Windows sends users there.${broken ? ` The chain also ends in ${broken}.` : ''} To enroll with ${profile.label}, replace it with: ${line}`,
    );
  }
  return unknownTarget(
    f,
    (brokenNote) => `${cnameTo}, another host, not ${profile.label} (${expected})${brokenNote}. Replace it with: ${line}`,
  );
}

export function registrationCheck(domain: string, res: Resolution, ctx: VerdictContext): RecordCheck {
  const { profile, deployment } = ctx;
  const name = registrationRecordName(domain);
  const expected = profile.registrationTarget;
  const line = zoneLine(name, expected);
  const f = checkCname(name, res, (n) => classifyRegistrationTarget(n, profile, deployment), {
    notCname: (addresses) =>
      `${name} has an address record (${addresses}) instead of a CNAME to ${expected}. ${REGISTRATION_PURPOSE} Replace it with: ${line}`,
    missing: (why, negative) =>
      `No ${name} record (${why}). ${REGISTRATION_PURPOSE} If you use conditional access, create: ${line}${negative}`,
  });
  if (!('cnameTo' in f)) return f;
  const { out, target, ttl, broken, cls, cnameTo } = f;
  if (cls?.kind === 'expected') {
    if (broken) return out('error', target, ttl, `${cnameTo}, the device registration service, but the chain ends in ${broken}.`);
    return out('ok', target, ttl, `${cnameTo}, the device registration service. ${REGISTRATION_PURPOSE}`);
  }
  if (cls) {
    return out(
      'wrong-target',
      target,
      ttl,
      `${cnameTo}, which points to ${cls.label}, not to the device registration service ${expected}. ${REGISTRATION_PURPOSE} Replace it with: ${line}`,
    );
  }
  return unknownTarget(
    f,
    (brokenNote) =>
      `${cnameTo}, another host, not the device registration service ${expected}${brokenNote}. If it is your own registration service, name it with --registration-target; otherwise replace it with: ${line}`,
  );
}

/** Worst first: which answer a disagreement is reported under (some users get it). */
const SEVERITY: Record<Verdict, number> = { error: 5, missing: 4, 'not-cname': 3, 'wrong-target': 2, legacy: 1, ok: 0 };

const summary = (c: RecordCheck) => (c.target ? `${c.verdict} (${c.target})` : c.verdict);

/**
 * One check out of several resolvers' answers. Agreement: the common answer. A resolver that failed:
 * `error`, naming it (the others' answer alongside). Different answers: propagation in progress, reported
 * under the worst answer, with what each resolver said.
 */
export function combineResolvers(views: Array<{ resolver: string; check: RecordCheck }>): RecordCheck {
  const [head] = views;
  if (!head) throw new Error('combineResolvers needs at least one answer');
  if (views.length === 1) return head.check;
  const resolvers: ResolverView[] = views.map(({ resolver, check }) => ({
    resolver,
    verdict: check.verdict,
    target: check.target,
    ttl: check.ttl,
    reason: check.reason,
  }));
  const key = (c: RecordCheck) => `${c.verdict} ${c.target ?? ''}`;
  if (views.every((v) => key(v.check) === key(head.check))) return { ...head.check, propagating: false, resolvers };

  const failed = views.filter((v) => v.check.verdict === 'error');
  const answered = views.filter((v) => v.check.verdict !== 'error');
  const answeredAgree = answered.every((v) => key(v.check) === key((answered[0] as (typeof answered)[number]).check));
  if (failed.length > 0 && answeredAgree) {
    const [firstFailed] = failed as [(typeof failed)[number]];
    const others = answered[0] ? ` ${answered.map((v) => v.resolver).join(', ')} answered: ${summary(answered[0].check)}.` : '';
    return {
      ...firstFailed.check,
      propagating: false,
      reason: `${failed.map((v) => `${v.resolver}: ${v.check.reason}`).join(' ')}${others}`,
      resolvers,
    };
  }
  const worst = views.reduce((a, b) => (SEVERITY[b.check.verdict] > SEVERITY[a.check.verdict] ? b : a));
  return {
    ...worst.check,
    propagating: true,
    reason: `Propagation in progress: the resolvers disagree (${views.map((v) => `${v.resolver}: ${summary(v.check)}`).join('; ')}). DNS changes can take up to ${PROPAGATION_HOURS} hours to reach every resolver; check again later. ${worst.resolver}: ${worst.check.reason}`,
    resolvers,
  };
}
