/**
 * Textual IP address to the network-order octets an X.509 iPAddress SAN carries (RFC 5280 §4.2.1.6).
 * node:net can validate addresses but has no API that returns their bytes.
 */
import { isIPv4, isIPv6 } from 'node:net';

function ipv4Bytes(ip: string): number[] {
  return ip.split('.').map(Number);
}

export function ipAddressBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ipv4Bytes(ip));
  if (!isIPv6(ip) || ip.includes('%')) throw new RangeError(`not an IP address: ${ip}`);
  // Split around "::", expand each side into 16-bit groups (an embedded dotted quad counts as two).
  const groups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const [a, b, c, d] = ipv4Bytes(g) as [number, number, number, number];
        out.push((a << 8) | b, (c << 8) | d);
      } else {
        out.push(Number.parseInt(g, 16));
      }
    }
    return out;
  };
  const [head = '', tail] = ip.split('::');
  const h = groups(head);
  const t = tail === undefined ? [] : groups(tail);
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  const all = [...h, ...new Array<number>(fill).fill(0), ...t];
  const out = Buffer.alloc(16);
  for (const [i, g] of all.entries()) out.writeUInt16BE(g, i * 2);
  return out;
}
