import { describe, expect, it } from 'vitest';
import { XmlError } from '../../src/protocol/xml/errors.js';
import { attr, child, children, descendant, parseXml } from '../../src/protocol/xml/reader.js';
import { escapeXml } from '../../src/protocol/xml/writer.js';

describe('parseXml', () => {
  it('builds a namespace-aware tree, matching by URI and not by prefix', () => {
    const root = parseXml(
      '<p:a xmlns:p="urn:one" xmlns="urn:two" p:x="1" y="2"><b>t&amp;<![CDATA[<c>]]>&#65;</b><q:b xmlns:q="urn:two"/></p:a>',
    );
    expect(root).toMatchObject({ uri: 'urn:one', local: 'a', prefix: 'p' });
    expect(root.attrs).toEqual([
      { uri: 'urn:one', local: 'x', value: '1' },
      { uri: '', local: 'y', value: '2' },
    ]);
    expect(attr(root, 'x', 'urn:one')).toBe('1');
    expect(attr(root, 'x')).toBeUndefined();
    expect(attr(root, 'y')).toBe('2');
    expect(children(root, 'urn:two', 'b')).toHaveLength(2);
    expect(child(root, 'urn:two', 'b')?.text).toBe('t&<c>A');
    expect(child(root, 'urn:one', 'b')).toBeUndefined();
    expect(descendant(root, 'urn:two', 'b')?.prefix).toBe('');
  });

  it('accepts a UTF-8 BOM in bytes and in text, and an XML declaration', () => {
    const bytes = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('<?xml version="1.0" encoding="UTF-8"?><x>é</x>')]);
    expect(parseXml(bytes).text).toBe('é');
    expect(parseXml('\uFEFF<x/>').local).toBe('x');
  });

  const hostile: Array<[string, string | Buffer]> = [
    [
      'billion laughs',
      '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">' +
        '<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]><lolz>&lol3;</lolz>',
    ],
    ['external entity', '<?xml version="1.0"?><!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><foo>&xxe;</foo>'],
    ['bare DOCTYPE', '<!DOCTYPE html><html/>'],
    ['external DTD', '<!DOCTYPE x SYSTEM "http://example.com/x.dtd"><x/>'],
    ['processing instruction', '<x><?php echo 1; ?></x>'],
    ['stylesheet PI', '<?xml-stylesheet href="a.xsl"?><x/>'],
    ['deep nesting', `${'<a>'.repeat(65)}${'</a>'.repeat(65)}`],
    ['very deep nesting', `${'<a>'.repeat(100_000)}`],
    ['unbound element prefix', '<s:Envelope/>'],
    ['unbound attribute prefix', '<x wsse:Type="1"/>'],
    ['truncated', '<s:Envelope xmlns:s="urn:s"><s:Body>'],
    ['mismatched tags', '<a><b></a></b>'],
    ['multiple roots', '<a/><b/>'],
    ['text after root', '<a/>junk'],
    ['empty input', ''],
    ['undefined entity', '<x>&nbsp;</x>'],
    ['invalid UTF-8', Buffer.from([0x3c, 0x78, 0x3e, 0xff, 0xfe, 0x3c, 0x2f, 0x78, 0x3e])],
    ['oversize input', `<x>${'a'.repeat(4 * 1024 * 1024)}</x>`],
  ];
  for (const [name, input] of hostile) {
    it(`rejects ${name} with XmlError`, () => {
      expect(() => parseXml(input)).toThrow(XmlError);
      if (typeof input === 'string' && input.includes('<!DOCTYPE')) expect(() => parseXml(input)).toThrow(/DOCTYPE/);
    });
  }

  it('enforces the element, depth and text limits passed in', () => {
    expect(() => parseXml(`<r>${'<e/>'.repeat(20_000)}</r>`)).toThrow(XmlError);
    expect(parseXml(`<r>${'<e/>'.repeat(19_999)}</r>`).children).toHaveLength(19_999);
    expect(() => parseXml('<a><b/></a>', { maxElements: 1 })).toThrow(XmlError);
    expect(() => parseXml('<a><b><c/></b></a>', { maxDepth: 2 })).toThrow(XmlError);
    expect(parseXml('<a><b/></a>', { maxDepth: 2 }).children).toHaveLength(1);
    expect(() => parseXml('<a>12345</a>', { maxTextLength: 4 })).toThrow(XmlError);
    expect(() => parseXml('<a>12345</a>', { maxInputLength: 8 })).toThrow(XmlError);
  });
});

describe('escapeXml', () => {
  it('escapes the five special characters', () => {
    expect(escapeXml(`a&b<c>d"e'f`)).toBe('a&amp;b&lt;c&gt;d&quot;e&apos;f');
  });

  it('round-trips tricky text through text nodes and both attribute quotings', () => {
    for (const text of ['R&D <lab> &#65;', `"quoted" and 'single'`, ']]> end', 'tab\there\r\nnew line', 'astral \u{1F600} é', '']) {
      const e = escapeXml(text);
      const root = parseXml(`<x a="${e}" b='${e}'>${e}</x>`);
      expect(root.text).toBe(text);
      expect(attr(root, 'a')).toBe(text);
      expect(attr(root, 'b')).toBe(text);
    }
  });

  it('refuses characters XML 1.0 cannot carry', () => {
    expect(() => escapeXml('nul\u0000')).toThrow(XmlError);
    expect(() => escapeXml('bell\u0007')).toThrow(XmlError);
    expect(() => escapeXml('lone \uD800 surrogate')).toThrow(XmlError);
  });
});
