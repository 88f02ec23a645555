/**
 * A small DNS client on dns-packet over node:dgram (TCP when an answer comes back truncated), behind core's
 * DnsResolver port. node's own Resolver hides what the check must show: the CNAME's own TTL, NXDOMAIN
 * against NODATA, the rcode of a failure, and answers that cannot be decoded.
 */
import { randomInt } from 'node:crypto';
import dgram from 'node:dgram';
import { getServers } from 'node:dns';
import net from 'node:net';
import * as wire from 'dns-packet';
import { type ResolverAddress, canonicalName, parseResolver, resolverLabel, sameName } from '../core/dns/names.js';
import type { DnsQueryType, DnsRecord, DnsReply, DnsResolver } from '../core/dns/ports.js';

export interface WireResolverOptions {
  /** Per try. */
  timeoutMs: number;
  /** UDP tries per server before giving up on it (default 2). */
  tries?: number;
}

/** Larger than 512 so few answers need TCP; small enough to avoid IP fragmentation (DNS flag day 2020). */
const EDNS_PAYLOAD = 1232;

const RCODE_HINTS: Record<number, string> = {
  1: 'FORMERR: the resolver did not understand the query',
  2: 'SERVFAIL: the resolver could not get an answer (the zone’s servers failing or unreachable, or DNSSEC validation failing)',
  4: 'NOTIMP: the resolver does not implement this query',
  5: 'REFUSED: the resolver does not answer this client (not a recursive resolver for this network?)',
};

/** One resolver per named server (their answers are compared), or the system's when none is named. */
export function wireResolvers(servers: ResolverAddress[], opts: WireResolverOptions): DnsResolver[] {
  if (servers.length > 0) return servers.map((s) => new WireResolver([s], resolverLabel(s), opts));
  return [systemResolver(opts)];
}

/** The servers of /etc/resolv.conf (or Windows' settings), tried in order like the system does. */
export function systemResolver(opts: WireResolverOptions): DnsResolver {
  const servers: ResolverAddress[] = [];
  for (const s of getServers()) {
    try {
      servers.push(parseResolver(s));
    } catch {
      // A scoped IPv6 address (fe80::1%eth0) cannot be used here; the others can.
    }
  }
  return new WireResolver(servers, `system (${servers.map(resolverLabel).join(', ') || 'none configured'})`, opts);
}

type Exchange =
  | { kind: 'answer'; buf: Buffer; packet: wire.DecodedPacket }
  | { kind: 'truncated' }
  | { kind: 'failed'; cause: string; retry: boolean };

export class WireResolver implements DnsResolver {
  readonly label: string;
  readonly #servers: ResolverAddress[];
  readonly #timeoutMs: number;
  readonly #tries: number;

  constructor(servers: ResolverAddress[], label: string, opts: WireResolverOptions) {
    this.#servers = servers;
    this.label = label;
    this.#timeoutMs = opts.timeoutMs;
    this.#tries = Math.max(1, opts.tries ?? 2);
  }

  async query(name: string, type: DnsQueryType): Promise<DnsReply> {
    if (this.#servers.length === 0) return { ok: false, cause: 'no DNS server is configured on this machine; name one with --resolver' };
    let last: DnsReply = { ok: false, cause: 'no answer' };
    for (const server of this.#servers) {
      last = await this.#ask(server, canonicalName(name), type);
      if (last.ok) return last;
    }
    return last;
  }

  async #ask(server: ResolverAddress, name: string, type: DnsQueryType): Promise<DnsReply> {
    const where = resolverLabel(server);
    let ignored = 0;
    for (let attempt = 1; attempt <= this.#tries; attempt++) {
      const id = randomInt(0, 0x10000);
      const query: wire.Packet = {
        type: 'query',
        id,
        flags: wire.RECURSION_DESIRED,
        questions: [{ type, name, class: 'IN' }],
        additionals: [
          { type: 'OPT', name: '.', udpPayloadSize: EDNS_PAYLOAD, extendedRcode: 0, ednsVersion: 0, flags: 0, flag_do: false, options: [] },
        ],
      };
      let ex = await udpExchange(server, wire.encode(query), id, this.#timeoutMs, () => ignored++);
      if (ex.kind === 'truncated') ex = await tcpExchange(server, wire.streamEncode(query), id, this.#timeoutMs);
      if (ex.kind === 'truncated') return { ok: false, cause: `truncated answer from ${where} even over TCP` };
      if (ex.kind === 'failed') {
        if (ex.retry && attempt < this.#tries) continue;
        const note = ignored > 0 ? ` (${ignored} packet${ignored === 1 ? '' : 's'} that did not answer the query ignored)` : '';
        return { ok: false, cause: `${ex.cause}${note}` };
      }
      return interpret(ex.buf, ex.packet, name, type, where);
    }
    return { ok: false, cause: `no answer from ${where}` };
  }
}

function interpret(buf: Buffer, p: wire.DecodedPacket, name: string, type: DnsQueryType, where: string): DnsReply {
  const q = p.questions?.[0];
  if (!p.flag_qr || !q || !sameName(q.name, name) || q.type !== type) {
    return { ok: false, cause: `garbage answer from ${where}: it does not answer the question ${name} ${type}` };
  }
  // The rcode from the header itself (4 bits); dns-packet's decoded value is not in its types.
  const rcode = (buf[3] ?? 0) & 0x0f;
  if (rcode !== 0 && rcode !== 3) return { ok: false, cause: `${RCODE_HINTS[rcode] ?? `rcode ${rcode}`} (from ${where})` };
  const answers: DnsRecord[] = [];
  for (const a of p.answers ?? []) {
    if ((a.type === 'CNAME' || a.type === 'A' || a.type === 'AAAA') && typeof a.data === 'string') {
      answers.push({
        name: canonicalName(a.name),
        type: a.type,
        ttl: a.ttl ?? 0,
        value: a.type === 'CNAME' ? canonicalName(a.data) : a.data,
      });
    }
  }
  let negativeTtl: number | null = null;
  for (const a of p.authorities ?? []) {
    if (a.type === 'SOA') negativeTtl = Math.min(a.ttl ?? 0, a.data.minimum ?? Number.MAX_SAFE_INTEGER);
  }
  return { ok: true, rcode: rcode === 3 ? 'NXDOMAIN' : 'NOERROR', answers, negativeTtl };
}

function decodeAnswer(buf: Buffer, where: string): Exchange {
  try {
    const packet = wire.decode(buf);
    if (packet.flag_tc) return { kind: 'truncated' };
    return { kind: 'answer', buf, packet };
  } catch (err) {
    return { kind: 'failed', cause: `garbage answer from ${where}: ${(err as Error).message}`, retry: false };
  }
}

function udpExchange(server: ResolverAddress, msg: Buffer, id: number, timeoutMs: number, onIgnored: () => void): Promise<Exchange> {
  const where = resolverLabel(server);
  return new Promise((resolve) => {
    const socket = dgram.createSocket(net.isIPv6(server.host) ? 'udp6' : 'udp4');
    let done = false;
    const finish = (ex: Exchange) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      resolve(ex);
    };
    const timer = setTimeout(
      () => finish({ kind: 'failed', cause: `no answer from ${where} within ${timeoutMs} ms (timeout)`, retry: true }),
      timeoutMs,
    );
    socket.on('error', (err) => finish({ kind: 'failed', cause: `cannot reach ${where}: ${err.message}`, retry: true }));
    socket.on('message', (buf, rinfo) => {
      // Only the server asked, with our id, may answer; anything else (late or spoofed packets) is ignored.
      if (rinfo.port !== server.port || !sameAddress(rinfo.address, server.host) || buf.length < 2 || buf.readUInt16BE(0) !== id) {
        onIgnored();
        return;
      }
      finish(decodeAnswer(buf, where));
    });
    socket.send(msg, server.port, server.host, (err) => {
      if (err) finish({ kind: 'failed', cause: `cannot send to ${where}: ${err.message}`, retry: true });
    });
  });
}

function tcpExchange(server: ResolverAddress, msg: Buffer, id: number, timeoutMs: number): Promise<Exchange> {
  const where = `${resolverLabel(server)} over TCP`;
  return new Promise((resolve) => {
    let buf = Buffer.alloc(0);
    let done = false;
    const socket = net.connect({ host: server.host, port: server.port });
    const finish = (ex: Exchange) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(ex);
    };
    const timer = setTimeout(
      () => finish({ kind: 'failed', cause: `no answer from ${where} within ${timeoutMs} ms (timeout)`, retry: true }),
      timeoutMs,
    );
    socket.on('connect', () => socket.write(msg));
    socket.on('error', (err) =>
      finish({ kind: 'failed', cause: `cannot reach ${where} (the answer over UDP was truncated): ${err.message}`, retry: true }),
    );
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length < 2) return;
      const len = buf.readUInt16BE(0);
      if (buf.length < 2 + len) return;
      const body = buf.subarray(2, 2 + len);
      if (body.length < 2 || body.readUInt16BE(0) !== id) {
        finish({ kind: 'failed', cause: `garbage answer from ${where}: not an answer to this query`, retry: false });
        return;
      }
      const ex = decodeAnswer(body, where);
      finish(ex.kind === 'truncated' ? { kind: 'failed', cause: `truncated answer from ${where}`, retry: false } : ex);
    });
    socket.on('end', () => finish({ kind: 'failed', cause: `${where} closed the connection without a complete answer`, retry: true }));
  });
}

function sameAddress(a: string, b: string): boolean {
  const norm = (x: string) => x.replace(/^::ffff:/, '').toLowerCase();
  return norm(a) === norm(b);
}
