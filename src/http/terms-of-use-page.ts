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

export type TermsTheme = 'light' | 'dark';

/** `CXH-HOST: FRX` is OOBE (dark); `MOSET` (Settings) and anything else, light. */
export function themeFor(cxhHost: string | undefined): TermsTheme {
  return cxhHost?.trim().toUpperCase() === 'FRX' ? 'dark' : 'light';
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

export function renderTermsOfUsePage(p: TermsOfUsePageInput): string {
  const c = p.theme === 'dark' ? DARK : LIGHT;
  const style = `
  *{box-sizing:border-box}html{color-scheme:${p.theme}}body{margin:0;font-family:"Segoe UI",system-ui,sans-serif;background:${c.bg};color:${c.fg}}
  main{max-width:36rem;margin:2rem auto;background:${c.card};padding:2rem;border-radius:8px}
  h1{font-size:1.5rem;margin:0 0 1rem}p,li{margin:.5rem 0 1rem;line-height:1.5}h2{font-size:1.2rem}h3{font-size:1.05rem}
  .terms{max-height:50vh;overflow:auto;border:1px solid ${c.border};border-radius:4px;padding:.25rem 1rem;margin-bottom:1.25rem}
  .terms:focus{outline:3px solid ${c.focus};outline-offset:1px}
  .actions{display:flex;gap:.75rem;flex-wrap:wrap;justify-content:flex-end}
  button{min-width:8rem;padding:.65rem 1.25rem;font-size:1rem;border-radius:4px;cursor:pointer;border:1px solid ${c.border};background:transparent;color:${c.fg}}
  button.primary{background:${c.accent};color:${c.accentFg};border-color:${c.accent}}
  button:focus{outline:3px solid ${c.focus};outline-offset:2px}`;
  const paragraphs =
    p.body != null
      ? renderTermsMarkdown(p.body.replaceAll('{org}', p.organizationName))
      : (p.paragraphs ?? DEFAULT_TERMS_OF_USE).map((t) => `<p>${esc(t.replaceAll('{org}', p.organizationName))}</p>`).join('\n');
  const title = p.title != null ? p.title.replaceAll('{org}', p.organizationName) : `${p.organizationName} terms of use`;
  const decline = p.allowDecline ? `<button type="submit" name="action" value="decline">Decline</button>\n` : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title><style>${style}</style></head>
<body><main>
<h1 id="title">${esc(title)}</h1>
<div class="terms" id="terms" tabindex="0" role="region" aria-labelledby="title">
${paragraphs}
</div>
<form method="post" action="${esc(p.action)}" aria-describedby="terms">
<input type="hidden" name="state" value="${esc(p.state)}">
<div class="actions">
${decline}<button type="submit" name="action" value="accept" class="primary" autofocus>Accept</button>
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
