/**
 * A real DNS server on 127.0.0.1 for tests (UDP and TCP on the same port), serving a zone the test sets.
 * By default it answers like a recursive resolver (follows CNAMEs inside its data and returns the chain);
 * `chase: false` answers one step at a time like an authoritative server. Per-name behaviours make it
 * fail the way real resolvers do: SERVFAIL, REFUSED, silence, garbage, truncation over UDP.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import * as wire from 'dns-packet';

export interface ZoneRecord {
  name: string;
  type: 'CNAME' | 'A' | 'AAAA' | 'TXT';
  /** Default 3600. */
  ttl?: number;
  value: string;
}

export type Behaviour = 'servfail' | 'refused' | 'silent' | 'garbage' | 'truncate';

export interface TestDnsServer {
  host: string;
  port: number;
  /** `127.0.0.1:<port>`, as --resolver takes it. */
  address: string;
  setZone(records: ZoneRecord[]): void;
  /** How the server treats questions for `name` (any type); undefined = answer normally. */
  behave(name: string, behaviour: Behaviour | undefined): void;
  /** Every question received: name, type and transport. */
  queries: Array<{ name: string; type: string; transport: 'udp' | 'tcp' }>;
  close(): Promise<void>;
}

const lower = (n: string) => n.toLowerCase().replace(/\.$/, '');
/** The SOA sent with negative answers: TTL 300, minimum 60, so resolvers may cache "missing" 60 s. */
const NEGATIVE_TTL = 60;

export async function startDnsServer(opts: { chase?: boolean } = {}): Promise<TestDnsServer> {
  const chase = opts.chase ?? true;
  let zone: ZoneRecord[] = [];
  const behaviours = new Map<string, Behaviour>();
  const queries: TestDnsServer['queries'] = [];

  function answer(query: wire.DecodedPacket, transport: 'udp' | 'tcp'): Buffer | null {
    const q = query.questions?.[0];
    if (!q) return null;
    queries.push({ name: lower(q.name), type: q.type, transport });
    const base = { type: 'response' as const, id: query.id ?? 0, questions: [q] };
    const flags = wire.AUTHORITATIVE_ANSWER | wire.RECURSION_DESIRED | wire.RECURSION_AVAILABLE;
    const behaviour = behaviours.get(lower(q.name));
    if (behaviour === 'silent') return null;
    if (behaviour === 'servfail') return wire.encode({ ...base, flags: flags | 2, answers: [] });
    if (behaviour === 'refused') return wire.encode({ ...base, flags: flags | 5, answers: [] });
    if (behaviour === 'garbage') {
      // Our id and a response header that promises an answer the packet does not hold.
      const b = Buffer.alloc(14);
      b.writeUInt16BE(query.id ?? 0, 0);
      b.writeUInt16BE(0x8180, 2);
      b.writeUInt16BE(1, 4);
      b.writeUInt16BE(1, 6);
      b.write('\u00ff\u00ff', 12, 'latin1');
      return b;
    }
    if (behaviour === 'truncate' && transport === 'udp') {
      return wire.encode({ ...base, flags: flags | wire.TRUNCATED_RESPONSE, answers: [] });
    }

    const answers: wire.Answer[] = [];
    let name = lower(q.name);
    const seen = new Set<string>();
    for (;;) {
      const cname = zone.find((r) => r.type === 'CNAME' && lower(r.name) === name);
      if (!cname || q.type === 'CNAME') break;
      answers.push({ name, type: 'CNAME', ttl: cname.ttl ?? 3600, data: cname.value });
      seen.add(name);
      name = lower(cname.value);
      if (!chase || seen.has(name)) break;
    }
    const stop = answers.length > 0 && (!chase || seen.has(name));
    if (!stop) {
      for (const r of zone) {
        if (lower(r.name) !== name || r.type !== q.type) continue;
        answers.push(
          r.type === 'TXT'
            ? { name, type: 'TXT', ttl: r.ttl ?? 3600, data: r.value }
            : { name, type: r.type as 'A' | 'AAAA' | 'CNAME', ttl: r.ttl ?? 3600, data: r.value },
        );
      }
    }
    const exists = zone.some((r) => lower(r.name) === name);
    const resolved = answers.some((a) => lower(a.name) === name && a.type === q.type);
    const rcode = !resolved && !exists && !stop ? 3 : 0;
    const apex = name.split('.').slice(-2).join('.');
    const authorities: wire.Answer[] = resolved
      ? []
      : [
          {
            name: apex,
            type: 'SOA',
            ttl: 300,
            data: { mname: `ns.${apex}`, rname: `hostmaster.${apex}`, serial: 1, minimum: NEGATIVE_TTL },
          },
        ];
    return wire.encode({ ...base, flags: flags | rcode, answers, authorities });
  }

  const newUdp = () => {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (msg, rinfo) => {
      let query: wire.DecodedPacket;
      try {
        query = wire.decode(msg);
      } catch {
        return;
      }
      const out = answer(query, 'udp');
      if (out) socket.send(out, rinfo.port, rinfo.address);
    });
    return socket;
  };
  let udp = newUdp();
  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        const len = buf.readUInt16BE(0);
        const msg = buf.subarray(2, 2 + len);
        buf = buf.subarray(2 + len);
        let query: wire.DecodedPacket;
        try {
          query = wire.decode(msg);
        } catch {
          socket.destroy();
          return;
        }
        const out = answer(query, 'tcp');
        if (!out) continue;
        const framed = Buffer.alloc(2 + out.length);
        framed.writeUInt16BE(out.length, 0);
        out.copy(framed, 2);
        socket.write(framed);
      }
    });
  });

  // UDP and TCP on the same port: take a free UDP port, then TCP on it (retry if TCP's is taken).
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(0, '127.0.0.1', () => {
        udp.off('error', reject);
        resolve();
      });
    });
    port = udp.address().port;
    const ok = await new Promise<boolean>((resolve) => {
      tcp.once('error', () => resolve(false));
      tcp.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (ok) break;
    if (attempt > 20) throw new Error('no free port for the test DNS server');
    await new Promise<void>((resolve) => udp.close(() => resolve()));
    udp = newUdp();
  }

  return {
    host: '127.0.0.1',
    port,
    address: `127.0.0.1:${port}`,
    setZone(records) {
      zone = records;
    },
    behave(name, behaviour) {
      if (behaviour === undefined) behaviours.delete(lower(name));
      else behaviours.set(lower(name), behaviour);
    },
    queries,
    async close() {
      for (const s of sockets) s.destroy();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcp.close(() => resolve())),
      ]);
    },
  };
}
