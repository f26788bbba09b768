// Who may use the demos' admin page (/admin/users) and stepup's admin API (both demos read it):
//   ADMIN_EMAILS  comma-separated email addresses, case-insensitive; unset or empty: nobody
// A value that is not a list of addresses stops the demo at start-up with an Error naming it.

import { demoPage, Html, html } from "./demo-page.js";

type Env = Readonly<Record<string, string | undefined>>;

/** The demo's administrators, validated. */
export interface DemoAdmins {
  /** Lower-cased addresses. */
  emails: readonly string[];
  /** What the start-up output says about them (one line). */
  notes: string[];
}

const EMAIL = /^[^\s@,]{1,64}@[^\s@,]{1,190}$/;

/**
 * ADMIN_EMAILS (see the top of this file). An empty variable counts as unset.
 * @throws Error naming the variable when an entry is not an email address
 */
export function adminsFromEnv(env: Env = process.env): DemoAdmins {
  const raw = env.ADMIN_EMAILS ?? "";
  const emails = raw
    .split(",")
    .map((e) => e.trim().toLowerCase())
    .filter((e) => e !== "");
  const bad = emails.find((e) => !EMAIL.test(e));
  if (bad !== undefined)
    throw new Error(
      `demo: ADMIN_EMAILS must be email addresses separated by commas (got "${bad.slice(0, 80)}")`,
    );
  const notes = [
    emails.length > 0
      ? `admins: ${emails.join(", ")} may open /admin/users and the admin API (ADMIN_EMAILS)`
      : "admins: none (set ADMIN_EMAILS to open /admin/users)",
  ];
  return { emails, notes };
}

/** Whether a signed-in user (by their email) is one of the demo's administrators. */
export function isAdmin(admins: readonly string[], email: string | undefined): boolean {
  return email !== undefined && admins.includes(email.toLowerCase());
}

/** What the lookup found: the demo user's id (stepup's user id) and email. */
export interface AdminTarget {
  id: string;
  email: string;
}

/**
 * The admin page's script: the browser bundle's `stepUpFetch` calls the admin API, so an
 * administrator who is not fresh gets the step-up dialog, then the call is made again. Everything
 * from the API is written as text (never as markup).
 */
const ADMIN_SCRIPT = `document.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("admin-user");
  if (!root || !window.stepup) return;
  var base = "/stepup/admin/users/" + encodeURIComponent(root.getAttribute("data-user-id") || "");
  var view = root.querySelector("[data-status]");
  var said = root.querySelector("output");
  function row(list, term, value) {
    var dt = document.createElement("dt");
    dt.textContent = term;
    var dd = document.createElement("dd");
    dd.textContent = value;
    list.append(dt, dd);
  }
  function render(s) {
    var list = document.createElement("dl");
    row(list, "Two-step verification", s.enabled ? "on" : "off");
    row(list, "Factors", s.factors.length === 0 ? "none" : s.factors.map(function (f) {
      return f.title + " (" + f.name + (f.destination ? ", " + f.destination : "") + ")";
    }).join("; "));
    row(list, "Recovery codes left", s.recoveryCodesRemaining === null ? "not enabled" : String(s.recoveryCodesRemaining));
    row(list, "Trusted devices", s.devices.length === 0 ? "none" : s.devices.map(function (d) { return d.name; }).join("; "));
    row(list, "Locked", s.userLocked ? "yes, until unlocked" : s.lockedUntil ? "until " + s.lockedUntil : "no");
    row(list, "Policy reviews (90 days)", String(s.reviews.length));
    view.replaceChildren(list);
  }
  function call(method, path, done) {
    said.textContent = "";
    var init = method === "POST" ? { method: method, headers: { "content-type": "application/json" }, body: "{}" } : { method: method };
    return window.stepup.stepUpFetch(base + path, init).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (body) {
        if (!res.ok) { said.textContent = body.detail || "Failed (" + res.status + ")."; return; }
        render(body);
        if (done) said.textContent = done;
      });
    }, function () { said.textContent = "The request failed."; });
  }
  root.querySelectorAll("button[data-action]").forEach(function (button) {
    button.addEventListener("click", function () {
      button.disabled = true;
      call("POST", "/" + button.getAttribute("data-action"), button.getAttribute("data-done")).finally(function () {
        button.disabled = false;
      });
    });
  });
  call("GET", "");
});`;

function action(
  title: string,
  rule: string,
  name: string,
  label: string,
  done: string,
  danger = false,
): Html {
  return html`<li class="action"><div><span class="title">${title}</span><span class="rule">${rule}</span></div>
<button type="button" class="button ${danger ? "button-danger" : "button-secondary"}" data-action="${name}" data-done="${done}">${label}</button></li>`;
}

/**
 * The admin page: look a user up by email or id (`query`), then their two-step verification status
 * and the reset, revoke and unlock actions, through the admin API. `found` is the user the lookup
 * found (undefined: none, or no lookup yet).
 */
export function adminUsersPage(query: string, found: AdminTarget | undefined, brand?: string): string {
  const lookup = html`<div class="card">
<h1>Users</h1>
<p class="lead">Look a user up by email or id. Seeing or changing a user's two-step verification asks you to confirm it's you first (every 5 minutes).</p>
<form method="get" action="/admin/users" role="search">
<div class="field"><label for="user">Email or user id</label>
<input class="input" id="user" name="user" required maxlength="256" value="${query}"></div>
<button type="submit" class="button button-primary">Look up</button>
</form>
</div>`;
  const missing =
    query !== "" && !found
      ? html`<div class="card"><div class="alert" role="alert"><p>No user with that email or id.</p></div></div>`
      : "";
  const user = found
    ? html`<section class="card" id="admin-user" data-user-id="${found.id}" aria-labelledby="admin-user-title">
<h2 id="admin-user-title">${found.email}</h2>
<p class="rule">User id: ${found.id}</p>
<div data-status aria-live="polite"><p class="lead">Loading (you may be asked to confirm it's you)…</p></div>
<ul class="actions">
${action("Reset", "every factor, recovery code and trusted device removed; the user is emailed", "reset", "Reset two-step verification", "Reset: the user was told by email.", true)}
${action("Revoke", "every step-up and trusted device ends; factors stay", "revoke", "Revoke sessions", "Revoked.")}
${action("Unlock", "ends a lock after too many wrong codes", "unlock", "Unlock", "Unlocked.")}
</ul>
<output role="status"></output>
</section>`
    : "";
  const body = html`${lookup}${missing}${user}<p><a class="button button-secondary" href="/">Back home</a></p>
<script type="module" src="/stepup/assets/stepup.js"></script>
<script>${new Html(ADMIN_SCRIPT)}</script>`;
  return demoPage("Users", body, brand);
}

/** The page a signed-in user who is not an administrator gets (403). */
export function adminForbiddenPage(brand?: string): string {
  return demoPage(
    "Not allowed",
    html`<div class="card"><h1>Not allowed</h1><p class="lead">Only an administrator can open this page.</p><p><a class="button button-secondary" href="/">Back home</a></p></div>`,
    brand,
  );
}
