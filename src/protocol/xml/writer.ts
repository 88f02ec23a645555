// XML 1.0 §2.4 / §3.3.3: the single escaping routine every encoder uses. Writers build XML with
// template literals and pass every variable through escapeXml, so output is byte-stable and
// injection-free by construction.

import { XmlError } from './errors.js';

// Characters XML 1.0 cannot carry at all (§2.2 Char production), including lone surrogates.
const INVALID_XML_CHAR = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

const REPLACEMENTS: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
  // Escaped so that attribute-value and line-end normalisation cannot alter them on the way back in.
  '\t': '&#9;',
  '\n': '&#10;',
  '\r': '&#13;',
};

/** Escapes text so it is safe both as element content and inside a double- or single-quoted attribute. */
export function escapeXml(text: string): string {
  if (INVALID_XML_CHAR.test(text)) {
    throw new XmlError('text contains a character that XML 1.0 cannot represent');
  }
  return text.replace(/[&<>"'\t\n\r]/g, (c) => REPLACEMENTS[c] ?? c);
}
