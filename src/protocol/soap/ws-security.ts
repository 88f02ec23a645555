// OASIS WS-Security 1.0 `wsse:Security` header as the enrollment client uses it (protocol.md §3.1-§3.5,
// §4.3): a plaintext UsernameToken (OnPremise) or a BinarySecurityToken (Federated, programmatic,
// Entra ID). Verifying the token is the caller's job; this file only reads and writes it.

import { attr, child, children, type XmlElement } from '../xml/reader.js';
import { escapeXml } from '../xml/writer.js';
import { decodeBase64Binary, encodeBase64Binary } from './base64.js';
import { SoapFault } from './fault.js';
import { NS, WINDOWS_USERNAME_TOKEN_ID, WSS } from './namespaces.js';

export type WsSecurityToken =
  | { kind: 'username'; username: string; password: string }
  | { kind: 'binary'; valueType: string; encodingType: string; value: Buffer };

/**
 * Attribute that real clients send unprefixed but Microsoft's samples put in the wsse namespace
 * (protocol.md §3.2 item 5); both are read.
 */
export function wsseAttr(el: XmlElement, local: string): string | undefined {
  return attr(el, local) ?? attr(el, local, NS.wsse);
}

const invalid = (message: string): SoapFault => new SoapFault({ subcode: 'InvalidSecurity', message });

function decodeUsernameToken(el: XmlElement): WsSecurityToken {
  const username = child(el, NS.wsse, 'Username');
  const password = child(el, NS.wsse, 'Password');
  if (username === undefined || password === undefined) {
    throw invalid('The UsernameToken must carry a Username and a Password.');
  }
  // WS-Security UsernameToken Profile: an absent Type means PasswordText.
  const type = wsseAttr(password, 'Type');
  if (type !== undefined && type !== WSS.passwordText) {
    throw invalid('Only PasswordText passwords are supported.');
  }
  return { kind: 'username', username: username.text.trim(), password: password.text };
}

function decodeBinaryToken(el: XmlElement): WsSecurityToken {
  const valueType = wsseAttr(el, 'ValueType')?.trim();
  if (valueType === undefined || valueType === '') throw invalid('The BinarySecurityToken has no ValueType.');
  // WS-Security: EncodingType defaults to base64Binary, the only encoding Windows uses.
  const encodingType = wsseAttr(el, 'EncodingType')?.trim() || WSS.base64Binary;
  if (encodingType !== WSS.base64Binary) throw invalid('The BinarySecurityToken encoding is not base64Binary.');
  const value = decodeBase64Binary(el.text);
  if (value === undefined || value.length === 0) throw invalid('The BinarySecurityToken is not valid base64.');
  return { kind: 'binary', valueType, encodingType, value };
}

/**
 * Reads the token from `wsse:Security` in the SOAP header. Returns undefined when there is no
 * Security header or it holds no token (the caller then answers Authentication); throws
 * SoapFault InvalidSecurity when the header is present but unusable or ambiguous.
 */
export function decodeWsSecurity(header: XmlElement | undefined): WsSecurityToken | undefined {
  if (header === undefined) return undefined;
  const securities = children(header, NS.wsse, 'Security');
  const security = securities[0];
  if (security === undefined) return undefined;
  if (securities.length > 1) throw invalid('More than one WS-Security header was sent.');
  const tokens = security.children.filter((c) => c.uri === NS.wsse && (c.local === 'UsernameToken' || c.local === 'BinarySecurityToken'));
  const token = tokens[0];
  if (token === undefined) return undefined;
  if (tokens.length > 1) throw invalid('The WS-Security header carries more than one token.');
  return token.local === 'UsernameToken' ? decodeUsernameToken(token) : decodeBinaryToken(token);
}

/**
 * Client side: the `wsse:Security` header block exactly as Windows writes it. The envelope must bind
 * `s:`, `wsse:` and (for UsernameToken) `u:`.
 */
export function encodeWsSecurity(token: WsSecurityToken): string {
  if (token.kind === 'username') {
    return (
      `<wsse:Security s:mustUnderstand="1"><wsse:UsernameToken u:Id="${WINDOWS_USERNAME_TOKEN_ID}">` +
      `<wsse:Username>${escapeXml(token.username)}</wsse:Username>` +
      `<wsse:Password wsse:Type="${WSS.passwordText}">${escapeXml(token.password)}</wsse:Password>` +
      `</wsse:UsernameToken></wsse:Security>`
    );
  }
  return (
    `<wsse:Security s:mustUnderstand="1"><wsse:BinarySecurityToken ValueType="${escapeXml(token.valueType)}" ` +
    `EncodingType="${escapeXml(token.encodingType)}">${encodeBase64Binary(token.value)}</wsse:BinarySecurityToken></wsse:Security>`
  );
}
