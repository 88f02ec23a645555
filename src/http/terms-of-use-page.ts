/**
 * The MDM terms-of-use page Windows shows during Entra ID join (OOBE, `CXH-HOST: FRX`, dark) and "add work
 * account" (Settings, `CXH-HOST: MOSET`, light). Windows 10 shows it full-screen, Windows 11 in a frame.
 * No scripts; the form posts back to us with the signed state, never the bearer token.
 */
import { escapeXml as esc } from '../protocol/xml/writer.js';

/** Shown until an admin supplies their own text. Paragraphs. */
export const DEFAULT_TERMS_OF_USE = [
  'By continuing, you allow {org} to manage this device: it can apply security settings, install and remove work apps, and see information about the device such as its model, Windows version and compliance with company rules.',
  '{org} cannot see your personal files, browsing history, or the content of your personal email and messages.',
  'Your IT department can remove its settings and apps from this device, and, if the device is owned by your organisation, reset it.',
];

const LIGHT = {
  bg: '#f3f3f3',
  card: '#ffffff',
  fg: '#1b1b1b',
  muted: '#444444',
  accent: '#0067b8',
  accentFg: '#ffffff',
  border: '#8a8a8a',
  focus: '#0067b8',
};
const DARK = {
  bg: '#1f1f1f',
  card: '#2b2b2b',
  fg: '#ffffff',
  muted: '#d0d0d0',
  accent: '#4cc2ff',
  accentFg: '#000000',
  border: '#9a9a9a',
  focus: '#ffffff',
};

/** `auto`: no host told us its theme, so the page follows the system setting (prefers-color-scheme). */
export type TermsTheme = 'light' | 'dark' | 'auto';

/** `CXH-HOST: FRX` is OOBE (dark); `MOSET` (Settings) and any other host, light; no host header, the system's. */
export function themeFor(cxhHost: string | undefined): TermsTheme {
  const host = cxhHost?.trim().toUpperCase();
  if (!host) return 'auto';
  return host === 'FRX' ? 'dark' : 'light';
}

export interface TermsOfUsePageInput {
  organizationName: string;
  theme: TermsTheme;
  /** The signed form state. */
  state: string;
  /** Whether to offer Decline (never during a directory join: the join requires management). */
  allowDecline: boolean;
  /** Paragraphs; `{org}` is replaced by the organisation name. */
  paragraphs?: string[] | undefined;
  /** The admin's title and text (Markdown subset, see renderTermsMarkdown); null or absent: the defaults. */
  title?: string | null | undefined;
  body?: string | null | undefined;
  action: string;
}

const vars = (c: typeof LIGHT) =>
  `--bg:${c.bg};--card:${c.card};--fg:${c.fg};--muted:${c.muted};--accent:${c.accent};--accent-fg:${c.accentFg};--border:${c.border};--focus:${c.focus}`;

/**
 * Sized for the web view Windows opens (a fixed window, about 600 to 1024 px wide, sometimes less): the
 * card fills narrow windows, long words wrap instead of scrolling sideways, the terms scroll inside their
 * own focusable region so the buttons stay close, and Windows' high-contrast themes (forced colours) keep
 * every border, focus ring and the primary button visible.
 */
function termsStyle(theme: TermsTheme): string {
  const palette =
    theme === 'auto'
      ? `:root{color-scheme:light dark;${vars(LIGHT)}}@media (prefers-color-scheme:dark){:root{${vars(DARK)}}}`
      : `:root{color-scheme:${theme};${vars(theme === 'dark' ? DARK : LIGHT)}}`;
  return `
  ${palette}
  *{box-sizing:border-box}
  body{margin:0;font-family:"Segoe UI",system-ui,sans-serif;background:var(--bg);color:var(--fg);line-height:1.5;overflow-wrap:anywhere}
  main{width:min(40rem,100% - 2rem);margin:clamp(.75rem,4vh,2rem) auto;background:var(--card);padding:clamp(1rem,4vw,2rem);border-radius:8px;border:1px solid transparent}
  h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}p,li{margin:.5rem 0 1rem}h2{font-size:1.2rem}h3{font-size:1.05rem}
  .terms{max-height:max(12rem,50vh);overflow:auto;border:1px solid var(--border);border-radius:4px;padding:.25rem 1rem;margin-bottom:1.25rem}
  .terms:focus{outline:3px solid var(--focus);outline-offset:1px}
  .hint{font-size:.875rem;color:var(--muted);margin:-.75rem 0 1.25rem}
  .actions{display:flex;gap:.75rem;flex-wrap:wrap;justify-content:flex-end}
  button{min-width:8rem;min-height:2.75rem;padding:.6rem 1.25rem;font:inherit;border-radius:4px;cursor:pointer;border:1px solid var(--border);background:transparent;color:var(--fg)}
  button.primary{background:var(--accent);color:var(--accent-fg);border-color:var(--accent);font-weight:600}
  button:focus{outline:3px solid var(--focus);outline-offset:2px}
  @media (max-width:30rem){main{width:100%;margin:0;border-radius:0}.actions{flex-direction:column-reverse}button{width:100%}}
  @media (forced-colors:active){
    main,.terms{border-color:CanvasText}
    button{border:2px solid ButtonText}
    button.primary{border-width:3px;forced-color-adjust:none;background:Highlight;color:HighlightText;border-color:Highlight}
    .terms:focus,button:focus{outline-color:Highlight}
  }`;
}

export function renderTermsOfUsePage(p: TermsOfUsePageInput): string {
  const paragraphs =
    p.body != null
      ? renderTermsMarkdown(p.body.replaceAll('{org}', p.organizationName))
      : (p.paragraphs ?? DEFAULT_TERMS_OF_USE).map((t) => `<p>${esc(t.replaceAll('{org}', p.organizationName))}</p>`).join('\n');
  const title = p.title != null ? p.title.replaceAll('{org}', p.organizationName) : `${p.organizationName} terms of use`;
  const decline = p.allowDecline ? `<button type="submit" name="action" value="decline">Decline</button>\n` : '';
  // The terms region takes the first focus (not Accept): keyboard and screen-reader users start on the text,
  // can scroll it with the arrow keys, and reach the buttons with Tab.
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${termsStyle(p.theme)}</style></head>
<body><main>
<h1 id="title">${esc(title)}</h1>
<div class="terms" id="terms" tabindex="0" role="region" aria-labelledby="title" autofocus>
${paragraphs}
</div>
<p class="hint" id="hint">${p.allowDecline ? 'Accept to let your organisation manage this device, or Decline to stop here.' : 'Accept to continue setting up this device for your organisation.'}</p>
<form method="post" action="${esc(p.action)}" aria-describedby="hint">
<input type="hidden" name="state" value="${esc(p.state)}">
<div class="actions">
${decline}<button type="submit" name="action" value="accept" class="primary">Accept</button>
</div>
</form>
</main></body></html>`;
}

/**
 * The admin's text as HTML: everything is escaped first, then a small Markdown subset is recognised on the
 * escaped text, so no tag, attribute or link of the admin's can reach the page. Blocks: paragraphs
 * (blank-line separated; single newlines become <br>), `#`/`##` headings, `-`/`*` lists. Inline:
 * `**bold**`, `*italic*` / `_italic_`. Links are shown as text (the page has nowhere to go).
 */
export function renderTermsMarkdown(text: string): string {
  const inline = (t: string) =>
    esc(t)
      .replace(/\*\*(?=\S)(.+?)(?<=\S)\*\*/g, '<strong>$1</strong>')
      .replace(/(^|[\s(])[*_](?=\S)(.+?)(?<=\S)[*_](?=$|[\s).,;:!?])/g, '$1<em>$2</em>');
  const out: string[] = [];
  for (const block of text.replace(/\r\n?/g, '\n').split(/\n{2,}/)) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    const heading = /^(#{1,3})\s+(.*)$/.exec(lines[0]?.trim() ?? '');
    if (heading) {
      // A heading line, then whatever follows it in the same block.
      const level = Math.min(3, (heading[1]?.length ?? 1) + 1);
      out.push(`<h${level}>${inline(heading[2] ?? '')}</h${level}>`);
      lines.shift();
    }
    if (lines.length === 0) continue;
    if (lines.every((l) => /^\s*[-*]\s+/.test(l))) {
      out.push(`<ul>${lines.map((l) => `<li>${inline(l.replace(/^\s*[-*]\s+/, ''))}</li>`).join('')}</ul>`);
      continue;
    }
    out.push(`<p>${lines.map((l) => inline(l.trim())).join('<br>')}</p>`);
  }
  return out.join('\n');
}
