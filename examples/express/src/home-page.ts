import { demoPage, type Html, html } from "@stepup/example-shared";

/** A sign-up, log-in or password form post that failed: which form, why, and the email to fill back in. */
export interface FormError {
  form: "signup" | "login" | "password";
  message: string;
  email?: string;
}

function credentialsForm(kind: "signup" | "login", error: FormError | undefined, returnTo: string): Html {
  const failed = error?.form === kind ? error : undefined;
  const title = kind === "signup" ? "Sign up" : "Log in";
  const errorId = `${kind}-error`;
  const invalid = failed ? html` aria-invalid="true" aria-describedby="${errorId}"` : "";
  return html`<form method="post" action="/${kind}" class="card" aria-labelledby="${kind}-title">
<h2 id="${kind}-title">${title}</h2>
${returnTo === "/" ? "" : html`<input type="hidden" name="returnTo" value="${returnTo}">`}
${failed ? html`<div class="alert" role="alert" id="${errorId}"><p>${failed.message}</p></div>` : ""}
<div class="field"><label for="${kind}-email">Email</label>
<input class="input" id="${kind}-email" name="email" type="email" autocomplete="email" required value="${failed?.email ?? ""}"${invalid}></div>
<div class="field"><label for="${kind}-password">Password</label>
<input class="input" id="${kind}-password" name="password" type="password" autocomplete="${kind === "signup" ? "new-password" : "current-password"}"${kind === "signup" ? html` minlength="8"` : ""} required${invalid}></div>
<button type="submit" class="button ${kind === "signup" ? "button-primary" : "button-secondary"}">${title}</button>
</form>`;
}

function action(title: string, rule: string, control: Html): Html {
  return html`<li class="action"><div><span class="title">${title}</span><span class="rule">${rule}</span></div>${control}</li>`;
}

/** Change password: a credential change, which ends every step-up and trusted device of the user. */
function passwordForm(error: FormError | undefined): Html {
  const failed = error?.form === "password" ? error : undefined;
  const invalid = failed ? html` aria-invalid="true" aria-describedby="password-error"` : "";
  return html`<h2 class="section-title">Change password</h2>
<form method="post" action="/password">
${failed ? html`<div class="alert" role="alert" id="password-error"><p>${failed.message}</p></div>` : ""}
<div class="field"><label for="current-password">Current password</label>
<input class="input" id="current-password" name="password" type="password" autocomplete="current-password" required${invalid}></div>
<div class="field"><label for="new-password">New password</label>
<input class="input" id="new-password" name="newPassword" type="password" autocomplete="new-password" minlength="8" required${invalid}></div>
<button type="submit" class="button button-secondary">Change password</button>
</form>`;
}

function signedIn(email: string, error: FormError | undefined, policy: string | undefined): Html {
  const link = (href: string, label: string) =>
    html`<a class="button button-secondary" href="${href}">${label}</a>`;
  return html`<div class="card">
<h1>stepup demo</h1>
<p class="lead">Signed in as <strong>${email}</strong>. Each action below asks for a second factor when your last one is too old.</p>
${policy ? html`<p class="rule" id="policy">Step-up policy: ${policy}.</p>` : ""}
<p><a class="button button-primary" href="/stepup/console">Two-step verification console</a></p>
<h2 class="section-title">Protected actions</h2>
<ul class="actions">
${action("Admin panel", "admin:read · 15 min · a trusted device passes", link("/admin", "Open"))}
${action("Export data (JSON)", "data:export · 5 min · a trusted device passes", link("/api/export", "Export"))}
${action("Security settings", "security:manage · 5 min · passkey only", link("/admin/security", "Open"))}
${action("Vault", "vault:open · 5 min · passkey with user verification", link("/vault", "Open"))}
${action(
  "Transfer",
  "payment:transfer · bound to this transaction · over 1000 always asks",
  html`<form method="post" action="/transfer">
<div class="field"><label for="amount">Amount</label><input class="input" id="amount" name="amount" value="100" inputmode="decimal"></div>
<div class="field"><label for="to">To</label><input class="input" id="to" name="to" value="alice"></div>
<button type="submit" class="button button-secondary">Transfer</button></form>`,
)}
${action(
  "Delete my account",
  "account:delete · 5 min",
  html`<form method="post" action="/account/delete"><input type="hidden" name="confirm" value="yes"><button type="submit" class="button button-danger">Delete my account</button></form>`,
)}
</ul>
${passwordForm(error)}
</div>
<div class="card footer"><span>Done for now?</span><form method="post" action="/logout"><button type="submit" class="button button-secondary">Log out</button></form></div>`;
}

/**
 * The demo's home page: sign up / log in (with a failed form's error and email filled back in),
 * then the protected actions, each with the rule that guards it.
 */
/**
 * The home page: signed in, the protected actions; signed out, the sign-up and log-in forms, which
 * carry `returnTo` (a same-origin path the sign-in redirect gave) so the user lands back there.
 */
export function homePage(
  email: string | undefined,
  error?: FormError,
  returnTo = "/",
  policy?: string,
): string {
  if (email) return demoPage(error ? "Change password failed" : "Home", signedIn(email, error, policy));
  const body = html`<div class="card"><h1>stepup demo</h1>
<p class="lead">Sign up (or log in), add an authenticator app in the console, then try a protected action.</p></div>
<div class="grid">${credentialsForm("signup", error, returnTo)}${credentialsForm("login", error, returnTo)}</div>`;
  return demoPage(error ? `${error.form === "signup" ? "Sign up" : "Log in"} failed` : "Home", body);
}
