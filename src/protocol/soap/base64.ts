// XML Schema base64Binary as carried in wsse:BinarySecurityToken (protocol.md §3.2, §4.3):
// whitespace (including CRLF line wrapping) is insignificant; anything else must be canonical base64.

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes base64Binary text, or returns undefined when it is not valid base64. */
export function decodeBase64Binary(text: string): Buffer | undefined {
  const compact = text.replace(/[\t\n\r ]+/g, '');
  if (!BASE64.test(compact)) return undefined;
  return Buffer.from(compact, 'base64');
}

export function encodeBase64Binary(data: Uint8Array): string {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength).toString('base64');
}
