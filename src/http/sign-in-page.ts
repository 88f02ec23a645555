/**
 * HTML for the federated sign-in page that Windows shows in its web authentication broker, and the
 * self-submitting form that returns `wresult` to `appru` (MS-MDE2 federated flow). Small, no scripts
 * beyond the auto-submit, readable at the broker's narrow size, labelled for screen readers.
 */
import { escapeXml as esc } from '../protocol/xml/writer.js';

const STYLE = `
  *{box-sizing:border-box}body{margin:0;font-family:"Segoe UI",system-ui,sans-serif;background:#f3f3f3;color:#1b1b1b}
  main{max-width:26rem;margin:2rem auto;background:#fff;padding:2rem;border-radius:8px;box-shadow:0 2px 8px rgba(0,0,0,.12)}
  h1{font-size:1.4rem;margin:0 0 .25rem}p{margin:.25rem 0 1rem;line-height:1.4}
  label{display:block;font-weight:600;margin:.75rem 0 .25rem}
  input[type=email],input[type=text],input[type=password]{width:100%;padding:.55rem;font-size:1rem;border:1px solid #8a8a8a;border-radius:4px}
  input:focus,button:focus{outline:3px solid #0067b8;outline-offset:1px}
  button{margin-top:1.25rem;width:100%;padding:.65rem;font-size:1rem;background:#0067b8;color:#fff;border:0;border-radius:4px;cursor:pointer}
  .error{background:#fde7e9;border-left:4px solid #a80000;padding:.6rem .8rem;margin-bottom:1rem}
  a.idp{display:block;text-align:center;margin-top:.75rem;padding:.65rem;font-size:1rem;color:#0067b8;background:#fff;border:1px solid #0067b8;border-radius:4px;text-decoration:none}
  a.idp:focus{outline:3px solid #0067b8;outline-offset:1px}
  .or{display:flex;align-items:center;gap:.75rem;margin:1.25rem 0 0;color:#5a5a5a}.or::before,.or::after{content:"";flex:1;border-top:1px solid #c8c8c8}`;

export interface SignInPageInput {
  organizationName: string;
  appru: string;
  loginHint: string;
  error?: string | undefined;
  /**
   * "Sign in with <name>" links (external OIDC providers), shown above the password form. `href` starts
   * the flow with a plain navigation: a form post that redirects to another site would be blocked by the
   * page's form-action policy.
   */
  providers?: ReadonlyArray<{ name: string; href: string }> | undefined;
  /** Where the password form posts; needed when the page is shown at another path (the OIDC callback). */
  action?: string | undefined;
}

export function renderSignInPage(p: SignInPageInput): string {
  const error = p.error ? `<div class="error" role="alert" id="error">${esc(p.error)}</div>` : '';
  const describedBy = p.error ? ' aria-describedby="error"' : '';
  const providers = p.providers ?? [];
  const links = providers.map((x) => `<a class="idp" href="${esc(x.href)}">Sign in with ${esc(x.name)}</a>`).join('\n');
  const or = providers.length > 0 ? '\n<p class="or">or use your password</p>' : '';
  const action = p.action ? ` action="${esc(p.action)}"` : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in to enroll this device</title><style>${STYLE}</style></head>
<body><main>
<h1>Sign in</h1>
<p>${esc(p.organizationName)} manages this device. Sign in with your work account to continue.</p>
${error}${links}${or}<form method="post"${action} autocomplete="on">
<input type="hidden" name="appru" value="${esc(p.appru)}">
<label for="username">Work account</label>
<input id="username" name="username" type="email" autocomplete="username" required value="${esc(p.loginHint)}"${describedBy}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${p.loginHint && providers.length === 0 ? ' autofocus' : ''}${describedBy}>
<button type="submit">Sign in</button>
</form>
</main></body></html>`;
}

export interface CodePageInput {
  organizationName: string;
  appru: string;
  upn: string;
  /** The signed step state from the password step (never the password). */
  state: string;
  error?: string | undefined;
  /** Where the form posts; needed when the page is shown at another path (the OIDC callback). */
  action?: string | undefined;
}

/**
 * The second step, shown only to users the MFA setting covers, after a correct password. Two steps
 * rather than one form with an optional code field: most users are never asked (the form stays what
 * Windows' small web view has always shown), a wrong code can be retried without typing the password
 * again (we never echo a password back), and the code field is alone on the page with focus, so the
 * numeric keyboard and one-time-code autofill behave.
 */
export function renderCodePage(p: CodePageInput): string {
  const error = p.error ? `<div class="error" role="alert" id="error">${esc(p.error)}</div>` : '';
  const describedBy = p.error ? 'otp-help error' : 'otp-help';
  const action = p.action ? ` action="${esc(p.action)}"` : '';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Enter your verification code</title><style>${STYLE}</style></head>
<body><main>
<h1>Verify it's you</h1>
<p>Signed in as <strong>${esc(p.upn)}</strong>. ${esc(p.organizationName)} requires a second step to enroll this device.</p>
${error}<form method="post"${action} autocomplete="off">
<input type="hidden" name="appru" value="${esc(p.appru)}">
<input type="hidden" name="state" value="${esc(p.state)}">
<label for="otp">Verification code</label>
<input id="otp" name="otp" type="text" inputmode="numeric" autocomplete="one-time-code" maxlength="12" required autofocus aria-describedby="${describedBy}">
<p id="otp-help">Open your authenticator app and enter the 6-digit code shown for ${esc(p.organizationName)}.</p>
<button type="submit">Verify</button>
</form>
</main></body></html>`;
}

/** The page that hands the token back to Windows: a form posted to `appru` with one field, `wresult`. */
export function renderTokenHandoff(appru: string, token: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Working...</title>
<script>window.onload=function(){document.forms[0].submit();};</script></head>
<body><form method="post" action="${esc(appru)}"><p><input type="hidden" name="wresult" value="${esc(token)}"></p>
<noscript><p>Signed in. Select Continue to finish enrolling.</p></noscript><input type="submit" value="Continue"></form></body></html>`;
}

export function renderPlainPage(title: string, message: string): string {
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${esc(title)}</title><style>${STYLE}</style></head>
<body><main><h1>${esc(title)}</h1><p>${esc(message)}</p></main></body></html>`;
}
