// WS-Addressing 1.0 SOAP headers as Windows sends and expects them (protocol.md §2.2, §2.3, §4.1, §9.1).
// Both helpers return an `<s:Header>` fragment and assume the envelope binds `s:` (SOAP 1.2) and `a:`
// (WS-Addressing); callers declare those once on `s:Envelope`, as Windows does.

import { escapeXml } from '../xml/writer.js';
import { NS, WSA_ANONYMOUS } from './namespaces.js';

/**
 * Server → client header: Action, the WCF ActivityId, RelatesTo the request's MessageID, then
 * `extraXml` (e.g. a wsse:Security timestamp) verbatim.
 */
export function encodeResponseHeader(input: { action?: string; activityId: string; relatesTo?: string; extraXml?: string }): string {
  const action = input.action === undefined ? '' : `<a:Action s:mustUnderstand="1">${escapeXml(input.action)}</a:Action>`;
  const id = escapeXml(input.activityId);
  const activity = `<ActivityId CorrelationId="${id}" xmlns="${NS.diagnostics}">${id}</ActivityId>`;
  const relatesTo = input.relatesTo === undefined ? '' : `<a:RelatesTo>${escapeXml(input.relatesTo)}</a:RelatesTo>`;
  return `<s:Header>${action}${activity}${relatesTo}${input.extraXml ?? ''}</s:Header>`;
}

/** Client → server header in the exact shape of the real captures; `extraXml` (e.g. wsse:Security) goes last. */
export function encodeRequestHeader(input: { action: string; messageId: string; to: string; extraXml?: string }): string {
  return (
    `<s:Header><a:Action s:mustUnderstand="1">${escapeXml(input.action)}</a:Action>` +
    `<a:MessageID>${escapeXml(input.messageId)}</a:MessageID>` +
    `<a:ReplyTo><a:Address>${WSA_ANONYMOUS}</a:Address></a:ReplyTo>` +
    `<a:To s:mustUnderstand="1">${escapeXml(input.to)}</a:To>${input.extraXml ?? ''}</s:Header>`
  );
}
