/**
 * HTML of the compliance page (the tenant's MDM compliance URL, `/compliance` by default): what Windows
 * shows when access is blocked because a device is not compliant, and what a user can open any time. For
 * each of the user's devices: the state in words (never colour alone), and for every failed rule what is
 * wrong and how to fix it. No scripts, no external resources; light or dark by the system setting, and
 * Windows' high-contrast themes (forced colours) keep the card frames, problem markers and focus visible.
 * Windows opens it in a small web view (about 600 px wide): one column, long names wrap, nothing scrolls
 * sideways.
 */
import type { RuleResult } from '../core/compliance/evaluate.js';
import type { DeviceComplianceView } from '../core/compliance/service.js';
import { escapeXml as esc } from '../protocol/xml/writer.js';

const STYLE = `
  *{box-sizing:border-box}
  :root{color-scheme:light dark;--bg:#f3f3f3;--card:#fff;--fg:#1b1b1b;--muted:#444;--border:#8a8a8a;--accent:#0067b8;--accent-fg:#fff;
    --ok:#0e700e;--bad:#a4262c;--warn:#7a4a00;--bad-bg:#fde7e9;--ok-bg:#dff6dd;--warn-bg:#fff4ce}
  @media (prefers-color-scheme:dark){:root{--bg:#1f1f1f;--card:#2b2b2b;--fg:#fff;--muted:#d0d0d0;--border:#9a9a9a;--accent:#4cc2ff;--accent-fg:#000;
    --ok:#9fd89f;--bad:#ff99a4;--warn:#fce100;--bad-bg:#442726;--ok-bg:#1f3a1f;--warn-bg:#433519}}
  body{margin:0;font-family:"Segoe UI",system-ui,sans-serif;background:var(--bg);color:var(--fg);line-height:1.5;overflow-wrap:anywhere}
  main{max-width:44rem;margin:1.5rem auto;padding:0 1rem}
  .card{background:var(--card);padding:1.25rem 1.5rem;border-radius:8px;margin-bottom:1rem;border:1px solid transparent}
  h1{font-size:1.5rem;margin:0 0 .5rem}h2{font-size:1.25rem;margin:0 0 .25rem}h3{font-size:1rem;margin:1rem 0 .25rem}
  p{margin:.25rem 0 .75rem}.muted{color:var(--muted)}
  .status{display:inline-block;font-weight:600;padding:.2rem .6rem;border-radius:4px;border:1px solid currentColor}
  .status.compliant{color:var(--ok);background:var(--ok-bg)}.status.noncompliant{color:var(--bad);background:var(--bad-bg)}
  .status.inGrace,.status.unknown{color:var(--warn);background:var(--warn-bg)}
  .problem{border-left:4px solid var(--bad);padding:.25rem .75rem;margin:.75rem 0}
  .problem.unknown{border-left-color:var(--warn)}
  ul.passed{padding-left:1.25rem;margin:.25rem 0}
  dl{margin:.25rem 0}dt{font-weight:600}dd{margin:0 0 .5rem}
  label{display:block;font-weight:600;margin:.75rem 0 .25rem}
  input{width:100%;padding:.55rem;font-size:1rem;border:1px solid var(--border);border-radius:4px;background:var(--card);color:var(--fg)}
  button{margin-top:1rem;min-height:2.75rem;padding:.6rem 1.25rem;font:inherit;border-radius:4px;cursor:pointer;border:1px solid var(--accent);background:var(--accent);color:var(--accent-fg)}
  button.secondary{background:transparent;color:var(--fg);border-color:var(--border)}
  input:focus,button:focus{outline:3px solid var(--accent);outline-offset:2px}
  .error{background:var(--bad-bg);border-left:4px solid var(--bad);padding:.6rem .8rem;margin:.75rem 0}
  @media (max-width:30rem){main{margin:.5rem auto;padding:0 .5rem}.card{padding:1rem}}
  @media (forced-colors:active){
    .card{border-color:CanvasText}.problem,.problem.unknown,.error{border-left-color:CanvasText}.status{border-width:2px}
    input:focus,button:focus{outline-color:Highlight}
  }`;

const STATE_TEXT: Record<DeviceComplianceView['state'], string> = {
  compliant: 'Meets your organisation’s requirements',
  noncompliant: 'Does not meet your organisation’s requirements',
  inGrace: 'Needs attention soon',
  unknown: 'Not checked yet',
};

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${STYLE}</style></head>
<body><main>
${body}
</main></body></html>`;
}

/** `12 May 2025, 14:03 UTC`. */
export function readableTime(d: Date): string {
  const text = new Intl.DateTimeFormat('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' }).format(d);
  return `${text} UTC`;
}

/** What the device reported, in words: a timestamp (the last check-in) as a readable time. */
function reported(value: string | null | undefined): string {
  if (!value) return 'ok';
  const time = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) ? new Date(value) : undefined;
  return time && !Number.isNaN(time.getTime()) ? readableTime(time) : value;
}

const sentence = (s: string) => (s ? `${s.charAt(0).toUpperCase()}${s.slice(1)}${/[.!?]$/.test(s) ? '' : '.'}` : '');

function problem(r: RuleResult, id: string): string {
  const unknown = r.status === 'unknown';
  return `<div class="problem${unknown ? ' unknown' : ''}" role="group" aria-labelledby="${id}">
<h3 id="${id}">${esc(r.title)}: ${unknown ? 'not reported yet' : 'needs fixing'}</h3>
<dl>
<dt>What we found</dt><dd>${esc(sentence(r.reason))}</dd>
<dt>Required</dt><dd>${esc(sentence(r.expected))}</dd>
${r.fix ? `<dt>How to fix it</dt><dd>${esc(r.fix)}</dd>` : unknown ? '<dt>What to do</dt><dd>Nothing yet: the device reports this when it next syncs with your organisation.</dd>' : ''}
</dl></div>`;
}

function deviceSection(d: DeviceComplianceView, index: number): string {
  const id = `device-${index}`;
  const name = d.deviceName ?? d.deviceId;
  const failed = d.rules.filter((r) => r.status === 'fail');
  const unknown = d.rules.filter((r) => r.status === 'unknown');
  const passed = d.rules.filter((r) => r.status === 'pass');
  const grace =
    d.state === 'inGrace' && d.graceEndsAt
      ? `<p>Fix the problems below before <strong>${esc(readableTime(d.graceEndsAt))}</strong> to keep access to work resources.</p>`
      : '';
  const lead =
    d.state === 'compliant'
      ? '<p>Nothing to do: this device meets every requirement.</p>'
      : d.state === 'noncompliant'
        ? '<p>Access to work resources may be blocked until you fix the problems below.</p>'
        : d.state === 'unknown' && failed.length === 0
          ? '<p>This device has not reported everything it needs to yet. It will be checked at its next sync.</p>'
          : '';
  const details = [...failed.map((r, i) => problem(r, `${id}-fail-${i}`)), ...unknown.map((r, i) => problem(r, `${id}-unknown-${i}`))].join(
    '\n',
  );
  const ok =
    passed.length > 0
      ? `<h3 id="${id}-passed">Requirements met</h3><ul class="passed" aria-labelledby="${id}-passed">${passed
          .map((r) => `<li>${esc(r.title)}: ${esc(reported(r.reported))}</li>`)
          .join('')}</ul>`
      : '';
  const meta = [
    d.model ? esc(d.model) : '',
    d.osVersion ? `Windows ${esc(d.osVersion)}` : '',
    d.lastCheckInAt ? `last synced ${esc(readableTime(d.lastCheckInAt))}` : 'not synced yet',
  ]
    .filter(Boolean)
    .join(' · ');
  return `<section class="card" aria-labelledby="${id}">
<h2 id="${id}">${esc(name)}</h2>
<p class="muted">${meta}</p>
<p>Status: <span class="status ${d.state}">${esc(STATE_TEXT[d.state])}</span></p>
${lead}${grace}${details}
${ok}
</section>`;
}

export interface ComplianceStatusPageInput {
  organizationName: string;
  upn: string;
  devices: DeviceComplianceView[];
  /** Offer "Sign out" (password sessions; a web view signed in by Windows has nothing to sign out of). */
  signOut: boolean;
  action: string;
}

export function renderComplianceStatusPage(p: ComplianceStatusPageInput): string {
  const sections =
    p.devices.length > 0
      ? p.devices.map(deviceSection).join('\n')
      : `<section class="card"><h2>No devices</h2><p>No device managed by ${esc(p.organizationName)} is registered to you. If you expected one, enroll it from Settings &gt; Accounts &gt; Access work or school, or contact your IT department.</p></section>`;
  const signOut = p.signOut
    ? `<form method="post" action="${esc(p.action)}"><input type="hidden" name="action" value="signout"><button type="submit" class="secondary">Sign out</button></form>`
    : '';
  return page(
    `Device compliance: ${p.organizationName}`,
    `<header class="card">
<h1>Device compliance</h1>
<p>Signed in as <strong>${esc(p.upn)}</strong>. ${esc(p.organizationName)} checks that your devices meet its security requirements before they can reach work resources.</p>
<p class="muted">After you fix something, sync the device (Settings &gt; Accounts &gt; Access work or school &gt; your work account &gt; Info &gt; Sync), then reload this page. The device also reports on its own within a few hours.</p>
${signOut}
</header>
${sections}`,
  );
}

export interface ComplianceSignInPageInput {
  organizationName: string;
  action: string;
  username?: string | undefined;
  error?: string | undefined;
}

export function renderComplianceSignInPage(p: ComplianceSignInPageInput): string {
  const error = p.error ? `<div class="error" role="alert" id="error">${esc(p.error)}</div>` : '';
  const describedBy = p.error ? ' aria-describedby="error"' : '';
  return page(
    `Sign in: device compliance, ${p.organizationName}`,
    `<section class="card" aria-labelledby="title">
<h1 id="title">Device compliance</h1>
<p>Sign in with your work account to see whether your devices meet ${esc(p.organizationName)}’s requirements, and how to fix them if they do not.</p>
${error}<form method="post" action="${esc(p.action)}" autocomplete="on">
<label for="username">Work account</label>
<input id="username" name="username" type="email" autocomplete="username" required value="${esc(p.username ?? '')}"${describedBy}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${describedBy}>
<button type="submit">Sign in</button>
</form>
</section>`,
  );
}

export function renderComplianceErrorPage(reference: string): string {
  return page(
    'Something went wrong',
    `<section class="card"><h1>Something went wrong</h1><p>The compliance page could not be shown. Try again in a few minutes; if it keeps happening, give your IT department this reference: ${esc(reference)}.</p></section>`,
  );
}
