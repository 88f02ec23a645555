/**
 * Follows a name to an address through one resolver: the CNAMEs in order (each with its own TTL), bounded
 * in length and with loop detection, then the A (or AAAA) records. Resolvers that chase the chain answer
 * in one round trip; for those that do not (an authoritative server outside its zone), the next name is
 * asked for. The outcome says precisely where and why it stopped.
 */
import type { DnsRecord, DnsReply, DnsResolver } from './ports.js';
import { canonicalName, sameName } from './names.js';

/** CNAMEs followed before giving up; real setups have one to three. */
export const MAX_CHAIN = 8;

export type Resolution =
  /** `records`: the CNAMEs in order, then the addresses of the last name. */
  | { outcome: 'address'; records: DnsRecord[] }
  /** The name `at` does not exist (NXDOMAIN) or has no CNAME, A or AAAA record (NODATA). */
  | { outcome: 'nxdomain' | 'nodata'; records: DnsRecord[]; at: string; negativeTtl: number | null }
  | { outcome: 'loop'; records: DnsRecord[]; at: string }
  | { outcome: 'too-long'; records: DnsRecord[] }
  | { outcome: 'failed'; records: DnsRecord[]; at: string; cause: string };

export async function resolveName(resolver: DnsResolver, name: string): Promise<Resolution> {
  const records: DnsRecord[] = [];
  const seen = new Set([canonicalName(name)]);
  let current = canonicalName(name);
  // Each round asks for the current name and takes every CNAME of the chain the answer carries.
  for (let round = 0; round <= MAX_CHAIN; round++) {
    const reply = await resolver.query(current, 'A');
    if (!reply.ok) return { outcome: 'failed', records, at: current, cause: reply.cause };
    let progressed = false;
    for (;;) {
      const cname = reply.answers.find((r) => r.type === 'CNAME' && sameName(r.name, current));
      if (!cname) break;
      records.push(cname);
      const next = canonicalName(cname.value);
      if (seen.has(next)) return { outcome: 'loop', records, at: next };
      if (records.length > MAX_CHAIN) return { outcome: 'too-long', records };
      seen.add(next);
      current = next;
      progressed = true;
    }
    const v4 = addressesOf(reply, current, 'A');
    if (v4.length > 0) return { outcome: 'address', records: [...records, ...v4] };
    if (reply.rcode === 'NXDOMAIN') return { outcome: 'nxdomain', records, at: current, negativeTtl: reply.negativeTtl };
    // The resolver gave the CNAME only: ask for its target.
    if (progressed) continue;
    const six = await resolver.query(current, 'AAAA');
    if (!six.ok) return { outcome: 'failed', records, at: current, cause: six.cause };
    const v6 = addressesOf(six, current, 'AAAA');
    if (v6.length > 0) return { outcome: 'address', records: [...records, ...v6] };
    return {
      outcome: six.rcode === 'NXDOMAIN' ? 'nxdomain' : 'nodata',
      records,
      at: current,
      negativeTtl: six.negativeTtl ?? reply.negativeTtl,
    };
  }
  return { outcome: 'too-long', records };
}

function addressesOf(reply: Extract<DnsReply, { ok: true }>, name: string, type: 'A' | 'AAAA'): DnsRecord[] {
  return reply.answers.filter((r) => r.type === type && sameName(r.name, name));
}
