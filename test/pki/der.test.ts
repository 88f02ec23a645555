import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  children,
  DerError,
  decodeOid,
  directoryString,
  oid,
  readSingle,
  readTlv,
  Tag,
  tlv,
  unsignedInteger,
  x509Time,
} from '../../src/pki/der.js';
import { ipAddressBytes } from '../../src/pki/ip-address.js';
import { fromPem, toPem } from '../../src/pki/pem.js';
import { openssl, scratch } from './helpers.js';

const tmp = scratch();
afterAll(() => tmp.cleanup());

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

describe('TLV encoding', () => {
  it('uses short and long length forms at the right boundaries', () => {
    const cases: Array<[number, string]> = [
      [0, '0400'],
      [127, '047f'],
      [128, '048180'],
      [255, '0481ff'],
      [256, '04820100'],
      [65535, '0482ffff'],
      [65536, '0483010000'],
    ];
    for (const [n, header] of cases) {
      const out = tlv(Tag.OCTET_STRING, Buffer.alloc(n, 0xab));
      expect(hex(out.subarray(0, header.length / 2))).toBe(header);
      expect(out.length).toBe(header.length / 2 + n);
      const t = readSingle(out, Tag.OCTET_STRING, 'x');
      expect(t.end - t.contentStart).toBe(n);
    }
  });

  it('encodes OIDs like openssl', () => {
    for (const o of ['2.5.4.3', '1.2.840.113549.1.1.11', '1.3.14.3.2.29', '1.3.6.1.4.1.311.66.1.0', '2.999.1', '1.2.840.10045.3.1.7']) {
      const ours = oid(o);
      const out = join(tmp.dir, 'oid.der');
      const ref = openssl(['asn1parse', '-genstr', `OID:${o}`, '-out', out, '-noout']);
      expect(ref.status, ref.output).toBe(0);
      expect(hex(ours)).toBe(readFileSync(out).toString('hex'));
      expect(decodeOid(ours.subarray(2))).toBe(o);
    }
    expect(() => oid('3.1')).toThrow(RangeError);
    expect(() => oid('1.40')).toThrow(RangeError);
    expect(() => oid('1.2.x')).toThrow(RangeError);
    expect(() => decodeOid(Buffer.of(0x2a, 0x86))).toThrow(DerError);
  });

  it('encodes positive INTEGERs minimally', () => {
    expect(hex(unsignedInteger(Buffer.of(0x00, 0x00, 0x7f)))).toBe('02017f');
    expect(hex(unsignedInteger(Buffer.of(0x80)))).toBe('02020080');
    expect(hex(unsignedInteger(Buffer.of(0x00)))).toBe('020100');
    expect(hex(unsignedInteger(Buffer.alloc(0)))).toBe('020100');
  });

  it('chooses PrintableString when allowed, else UTF8String', () => {
    expect(directoryString("B5B954E8 (x) +,-./:=?'")[0]).toBe(Tag.PRINTABLE_STRING);
    expect(directoryString('a_b')[0]).toBe(Tag.UTF8_STRING);
    expect(directoryString('a!b')[0]).toBe(Tag.UTF8_STRING);
    expect(directoryString('a@b')[0]).toBe(Tag.UTF8_STRING);
    expect(hex(directoryString('é'))).toBe('0c02c3a9');
  });

  it('encodes certificate times per RFC 5280 (UTCTime 1950-2049, GeneralizedTime otherwise)', () => {
    const t = (iso: string): string =>
      Buffer.from(x509Time(new Date(iso)))
        .toString('latin1')
        .slice(2);
    expect(x509Time(new Date('2049-12-31T23:59:59Z'))[0]).toBe(Tag.UTC_TIME);
    expect(t('2049-12-31T23:59:59Z')).toBe('491231235959Z');
    expect(x509Time(new Date('2050-01-01T00:00:00Z'))[0]).toBe(Tag.GENERALIZED_TIME);
    expect(t('2050-01-01T00:00:00Z')).toBe('20500101000000Z');
    expect(t('1950-01-01T00:00:00Z')).toBe('500101000000Z');
    expect(x509Time(new Date('1949-12-31T23:59:59Z'))[0]).toBe(Tag.GENERALIZED_TIME);
    expect(t('1949-12-31T23:59:59Z')).toBe('19491231235959Z');
    expect(t('2026-03-01T01:02:03.999Z')).toBe('260301010203Z');
    expect(() => x509Time(new Date(Number.NaN))).toThrow(RangeError);
    expect(() => x509Time(new Date('+010000-01-01T00:00:00Z'))).toThrow(RangeError);
  });
});

describe('TLV reading', () => {
  it('walks nested values', () => {
    const der = tlv(Tag.SEQUENCE, tlv(Tag.INTEGER, Buffer.of(5)), tlv(Tag.SEQUENCE, tlv(Tag.NULL, Buffer.alloc(0))));
    const top = readSingle(der, Tag.SEQUENCE, 'x');
    const [a, b] = children(der, top);
    expect(a?.tag).toBe(Tag.INTEGER);
    expect(b?.tag).toBe(Tag.SEQUENCE);
    expect(children(der, b as NonNullable<typeof b>).map((c) => c.tag)).toEqual([Tag.NULL]);
  });

  it('rejects bad framing with DerError', () => {
    const bad = [
      [],
      [0x30],
      [0x30, 0x80, 0, 0], // indefinite length
      [0x30, 0x85, 1, 1, 1, 1, 1], // 5 length octets
      [0x30, 0x82, 0x01], // truncated length
      [0x30, 0x03, 0x02, 0x01], // overruns
      [0x1f, 0x81, 0x00, 0x00], // high tag number
      [0x30, 0x02, 0x02, 0x05], // child overruns parent
    ];
    for (const b of bad) {
      expect(() => {
        const top = readSingle(Buffer.from(b), Tag.SEQUENCE, 'x');
        children(Buffer.from(b), top);
      }).toThrow(DerError);
    }
    expect(() => readSingle(Buffer.of(0x05, 0x00, 0x00), Tag.NULL, 'x')).toThrow(/trailing/);
    expect(() => readSingle(Buffer.of(0x05, 0x00), Tag.SEQUENCE, 'x')).toThrow(/expected tag/);
    expect(readTlv(Buffer.of(0x04, 0x81, 0x01, 0xaa), 0)).toEqual({ tag: 4, start: 0, contentStart: 3, end: 4 });
  });
});

describe('IP addresses and PEM', () => {
  it('converts IPv4 and IPv6 text to octets', () => {
    expect(hex(ipAddressBytes('192.0.2.10'))).toBe('c000020a');
    expect(hex(ipAddressBytes('::1'))).toBe(`${'00'.repeat(15)}01`);
    expect(hex(ipAddressBytes('::'))).toBe('00'.repeat(16));
    expect(hex(ipAddressBytes('2001:db8::1'))).toBe('20010db8000000000000000000000001');
    expect(hex(ipAddressBytes('fe80::1:2'))).toBe('fe800000000000000000000000010002');
    expect(hex(ipAddressBytes('1:2:3:4:5:6:7:8'))).toBe('00010002000300040005000600070008');
    expect(hex(ipAddressBytes('::ffff:192.0.2.1'))).toBe('00000000000000000000ffffc0000201');
    expect(() => ipAddressBytes('example.com')).toThrow(RangeError);
    expect(() => ipAddressBytes('fe80::1%eth0')).toThrow(RangeError);
  });

  it('round-trips PEM with 64-column lines and tolerates CRLF and the NEW label', () => {
    const der = Buffer.alloc(100, 7);
    const pem = toPem(der, 'CERTIFICATE');
    expect(pem.split('\n')[1]).toHaveLength(64);
    expect(fromPem(pem, 'CERTIFICATE').equals(der)).toBe(true);
    expect(fromPem(`junk\r\n${pem.replaceAll('\n', '\r\n')}`, 'CERTIFICATE').equals(der)).toBe(true);
    const req = toPem(der, 'CERTIFICATE REQUEST').replaceAll('CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST');
    expect(fromPem(req, 'CERTIFICATE REQUEST').equals(der)).toBe(true);
    expect(() => fromPem(pem, 'PRIVATE KEY')).toThrow(TypeError);
  });
});
