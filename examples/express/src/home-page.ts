const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c,
  );

/** The demo's home page: sign up / log in, then links to each protected route. */
export function homePage(email: string | undefined): string {
  const signedIn = email
    ? `<p>Signed in as <strong>${escapeHtml(email)}</strong>.</p>
<ul>
<li><a href="/stepup/console">Two-step verification console</a> (enroll an authenticator app first)</li>
<li><a href="/admin">Admin panel</a> (admin:read, 15 min)</li>
<li><a href="/api/export">Export data (JSON)</a> (data:export, 5 min)</li>
<li><a href="/admin/security">Security settings</a> (security:manage, 5 min, passkey only)</li>
<li><a href="/vault">Vault</a> (vault:open, 5 min, passkey with user verification)</li>
</ul>
<form method="post" action="/account/delete"><input type="hidden" name="confirm" value="yes"><button>Delete my account</button> (account:delete, 5 min)</form>
<form method="post" action="/transfer"><label>Amount <input name="amount" value="100"></label> <label>To <input name="to" value="alice"></label> <button>Transfer</button> (bound to this transaction)</form>
<form method="post" action="/logout"><button>Log out</button></form>`
    : `<form method="post" action="/signup"><h2>Sign up</h2><label>Email <input name="email" type="email" required></label> <label>Password <input name="password" type="password" minlength="8" required></label> <button>Sign up</button></form>
<form method="post" action="/login"><h2>Log in</h2><label>Email <input name="email" type="email" required></label> <label>Password <input name="password" type="password" required></label> <button>Log in</button></form>`;
  return `<!doctype html><html lang="en"><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>stepup demo</title>
<body style="font-family:system-ui;max-width:40rem;margin:2rem auto;line-height:1.5"><h1>stepup demo</h1>${signedIn}</body></html>`;
}
