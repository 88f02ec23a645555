/**
 * Waking a device with a WNS push (protocol.md 7.2): the device registers for pushes once it knows our
 * app's package family name (DMClient Push/PFN), reports a channel URI, and opens a session when a raw
 * notification reaches that channel. Pushes are best-effort: polling still runs on the DMClient schedule.
 */
import type { NewCommand } from './ports.js';

export type PushOutcome =
  | { ok: true }
  | { ok: false; reason: 'not_configured' | 'no_channel' | 'channel_expired' | 'rejected' | 'unreachable'; detail: string };

/** Sends a wake-up to a channel. Adapters (src/push) talk to WNS; core only sees this. */
export interface PushNotifier {
  wake(channelUri: string): Promise<PushOutcome>;
}

/** Channel URIs live about 30 days and Windows renews them after about 15: re-read them daily. */
export const CHANNEL_REFRESH_MS = 24 * 3600_000;

export function pushNodes(providerId: string) {
  const base = `./Vendor/MSFT/DMClient/Provider/${providerId}/Push`;
  return { pfn: `${base}/PFN`, channelUri: `${base}/ChannelURI`, status: `${base}/Status` };
}

/** Tell the device our PFN (when it differs), then read back its channel and registration status. */
export function pushCommands(providerId: string, pfn: string, knownPfn: string | null): NewCommand[] {
  const nodes = pushNodes(providerId);
  const origin = { kind: 'system' as const, purpose: 'push' };
  const out: NewCommand[] = [];
  if (knownPfn !== pfn)
    out.push({ verb: 'Replace', item: { locUri: nodes.pfn, format: 'chr', type: 'text/plain', data: pfn }, userId: null, origin });
  out.push({ verb: 'Get', item: { locUri: nodes.channelUri }, userId: null, origin });
  out.push({ verb: 'Get', item: { locUri: nodes.status }, userId: null, origin });
  return out;
}
