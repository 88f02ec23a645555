/** Status badges used on several pages (text always says what the colour means). */
import { Badge } from '../../shared/components.tsx';
import type { CommandState, ComplianceState } from '../types.ts';

const COMPLIANCE: Record<ComplianceState, { tone: 'ok' | 'bad' | 'warn' | 'neutral'; text: string }> = {
  compliant: { tone: 'ok', text: 'Compliant' },
  noncompliant: { tone: 'bad', text: 'Not compliant' },
  inGrace: { tone: 'warn', text: 'In grace period' },
  unknown: { tone: 'neutral', text: 'Not evaluated' },
};

export function ComplianceBadge({ state }: { state: ComplianceState | null | undefined }) {
  const c = COMPLIANCE[state ?? 'unknown'];
  return <Badge tone={c.tone}>{c.text}</Badge>;
}

const COMMAND: Record<CommandState, { tone: 'ok' | 'bad' | 'warn' | 'neutral' | 'info'; text: string }> = {
  pending: { tone: 'info', text: 'Queued' },
  sent: { tone: 'warn', text: 'Sent' },
  acknowledged: { tone: 'ok', text: 'Done' },
  failed: { tone: 'bad', text: 'Failed' },
  canceled: { tone: 'neutral', text: 'Canceled' },
};

export function CommandBadge({ state, status }: { state: CommandState; status: number | null }) {
  const c = COMMAND[state];
  return (
    <Badge tone={c.tone}>
      {c.text}
      {state === 'failed' && status !== null ? ` (status ${status})` : ''}
    </Badge>
  );
}

export function OwnershipBadge({ ownership }: { ownership: 'corporate' | 'personal' }) {
  return <Badge tone={ownership === 'corporate' ? 'info' : 'neutral'}>{ownership === 'corporate' ? 'Corporate' : 'Personal'}</Badge>;
}

export function windowsName(osVersion: string | null): string {
  if (!osVersion) return 'Unknown';
  const build = Number(osVersion.split('.')[2]);
  if (!Number.isFinite(build)) return osVersion;
  return `${build >= 22000 ? 'Windows 11' : 'Windows 10'} (${osVersion})`;
}
