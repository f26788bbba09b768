import { demoPage, type Html, html } from "@stepup/example-shared";
import { BRAND } from "./brand";

/** A sign-up or log-in form post that failed: which form, why, and the email to fill back in. */
export interface FormError {
  form: "signup" | "login";
  message: string;
  email?: string;
}

/** One credentials form, as on the home page (app/page.tsx), with the error when it is this one's. */
function credentialsForm(kind: FormError["form"], error: FormError): Html {
  const failed = error.form === kind ? error : undefined;
  const title = kind === "signup" ? "Sign up" : "Log in";
  const errorId = `${kind}-error`;
  const invalid = failed ? html` aria-invalid="true" aria-describedby="${errorId}"` : "";
  return html`<form method="post" action="/${kind}" class="card" aria-labelledby="${kind}-title">
<h2 id="${kind}-title">${title}</h2>
${failed ? html`<div class="alert" role="alert" id="${errorId}"><p>${failed.message}</p></div>` : ""}
<div class="field"><label for="${kind}-email">Email</label>
<input class="input" id="${kind}-email" name="email" type="email" autocomplete="email" required value="${failed?.email ?? ""}"${invalid}></div>
<div class="field"><label for="${kind}-password">Password</label>
<input class="input" id="${kind}-password" name="password" type="password" autocomplete="${kind === "signup" ? "new-password" : "current-password"}"${kind === "signup" ? html` minlength="8"` : ""} required${invalid}></div>
<button type="submit" class="button ${kind === "signup" ? "button-primary" : "button-secondary"}">${title}</button>
</form>`;
}

/** The signed-out home page again, for a form post that failed: the error by its form, the email kept. */
export function authErrorPage(error: FormError): string {
  const body = html`<div class="card"><h1>stepup demo (Next.js)</h1>
<p class="lead">Sign up (or log in), add an authenticator app in the console, then try a protected action.</p></div>
<div class="grid">${credentialsForm("signup", error)}${credentialsForm("login", error)}</div>`;
  return demoPage(`${error.form === "signup" ? "Sign up" : "Log in"} failed`, body, BRAND);
}
