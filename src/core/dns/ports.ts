/**
 * What the DNS validator needs from the network: one question, one answer, as a resolver gave it. The
 * adapter (src/dns) speaks the wire protocol; core only reads records, so every verdict can be tested
 * without sockets.
 */

export type DnsQueryType = 'A' | 'AAAA';

/** A record of an answer section, names lower-cased without the trailing dot. */
export interface DnsRecord {
  name: string;
  type: 'CNAME' | 'A' | 'AAAA';
  /** Seconds, as this record carries it (a cache answers with what is left of it). */
  ttl: number;
  /** The CNAME's target or the address. */
  value: string;
}

export type DnsReply =
  | {
      ok: true;
      /** NXDOMAIN may still carry the CNAMEs that led to the missing name. */
      rcode: 'NOERROR' | 'NXDOMAIN';
      answers: DnsRecord[];
      /** How long resolvers may cache "no such record" (SOA of the authority section), when given. */
      negativeTtl: number | null;
    }
  | {
      ok: false;
      /** One line an admin can act on: "SERVFAIL from 192.0.2.53:53", "no answer from ... after 2 tries of 2000 ms". */
      cause: string;
    };

export interface DnsResolver {
  /** How reports name it: "system (127.0.0.53:53)" or "192.0.2.53:53". */
  readonly label: string;
  query(name: string, type: DnsQueryType): Promise<DnsReply>;
}
