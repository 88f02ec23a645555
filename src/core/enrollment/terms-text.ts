/**
 * The admin's own terms-of-use text (`winroll settings terms`, `/api/v1/settings/terms-of-use`): a title
 * and a body in plain text or a small Markdown subset (paragraphs, `#`/`##` headings, `-` lists, `**bold**`,
 * `*italic*`), rendered escaped by the page (http/terms-of-use-page.ts), so no markup of the admin's can
 * reach the page as HTML. Every change (reset included) raises the version the acceptance blob records.
 */
import { type AuditContext, AuditTrail } from '../admin/audit.js';
import type { AuditStore } from '../admin/ports.js';
import type { Clock } from '../../shared/clock.js';
import { InvalidInputError } from '../../shared/errors.js';
import type { TermsText, TermsTextStore } from './ports.js';

export const TERMS_TITLE_MAX = 200;
export const TERMS_BODY_MAX = 20_000;

/** Control characters other than tab and newline (after CRLF → LF). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f\u2028\u2029]/;

export function checkTermsText(input: { title?: string | null | undefined; body: string }): { title: string | null; body: string } {
  const body = input.body
    .replace(/\r\n?/g, '\n')
    .replace(/^\uFEFF/, '')
    .trim();
  if (body === '') throw new InvalidInputError('the terms text is empty');
  if (body.length > TERMS_BODY_MAX) throw new InvalidInputError(`the terms text is longer than ${TERMS_BODY_MAX} characters`);
  if (CONTROL.test(body)) throw new InvalidInputError('the terms text contains control characters');
  let title: string | null = null;
  if (input.title !== undefined && input.title !== null) {
    title = input.title.trim();
    if (title === '') title = null;
    else if (title.length > TERMS_TITLE_MAX) throw new InvalidInputError(`the title is longer than ${TERMS_TITLE_MAX} characters`);
    else if (CONTROL.test(title) || title.includes('\n')) throw new InvalidInputError('the title must be one line of text');
  }
  return { title, body };
}

/** The terms as the audit log records them: the body as its length and first line, not the whole text. */
function auditView(t: TermsText) {
  return {
    title: t.title,
    body: t.body === null ? null : { characters: t.body.length, firstLine: t.body.split('\n')[0]?.slice(0, 120) ?? '' },
    version: t.version,
  };
}

export class TermsTextAdmin {
  readonly #store: TermsTextStore & AuditStore;
  readonly #clock: Clock;
  readonly #audit: AuditTrail;

  constructor(deps: { store: TermsTextStore & AuditStore; clock: Clock }) {
    this.#store = deps.store;
    this.#clock = deps.clock;
    this.#audit = new AuditTrail({ store: deps.store, clock: deps.clock });
  }

  get(): Promise<TermsText> {
    return this.#store.getTermsText();
  }

  /** Sets the body and, when given, the title (omitted: the title stays as it is). */
  async set(ctx: AuditContext, input: { title?: string | null | undefined; body: string }): Promise<TermsText> {
    const checked = checkTermsText(input);
    const before = await this.#store.getTermsText();
    const title = input.title === undefined ? before.title : checked.title;
    return this.#audit.record(
      ctx,
      { action: 'settings.terms_of_use.set', targetType: 'settings', targetId: 'terms_of_use', before: auditView(before) },
      () => this.#store.saveTermsText({ title, body: checked.body, now: this.#clock.now() }),
      auditView,
    );
  }

  /** Back to Winroll's default title and text (a new version, so earlier acceptances stay distinguishable). */
  async reset(ctx: AuditContext): Promise<TermsText> {
    const before = await this.#store.getTermsText();
    return this.#audit.record(
      ctx,
      { action: 'settings.terms_of_use.reset', targetType: 'settings', targetId: 'terms_of_use', before: auditView(before) },
      () => this.#store.saveTermsText({ title: null, body: null, now: this.#clock.now() }),
      auditView,
    );
  }
}
