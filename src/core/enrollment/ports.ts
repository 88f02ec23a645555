/**
 * Storage port of the terms-of-use text: the title and body an admin wrote for the MDM terms-of-use page
 * (null: Winroll's default), with a version that grows at every change (reset included), so the OpaqueBlob
 * of an acceptance says which text the user accepted.
 */

export interface TermsText {
  /** Null: the default title ("<organisation> terms of use"). */
  title: string | null;
  /** Null: the default text. Plain text or the small Markdown subset of core/enrollment/terms-text.ts. */
  body: string | null;
  /** 0 until an admin first changes anything. */
  version: number;
  updatedAt: Date | null;
}

export interface TermsTextStore {
  getTermsText(): Promise<TermsText>;
  /** Replaces title and body (null = default) and increments the version, in one statement. */
  saveTermsText(input: { title: string | null; body: string | null; now: Date }): Promise<TermsText>;
}
