import type { ReactNode } from "react";
import { session } from "../lib/auth-routes";
import { demo } from "../lib/demo";
import { DeleteAccountButton } from "./delete-account-button";

export const dynamic = "force-dynamic";

/** One protected action: what it is, the rule that guards it, and its control. */
function Action({ title, rule, children }: { title: string; rule: string; children: ReactNode }) {
  return (
    <li className="action">
      <div>
        <span className="title">{title}</span>
        <span className="rule">{rule}</span>
      </div>
      {children}
    </li>
  );
}

function CredentialsForm({ kind, returnTo }: { kind: "signup" | "login"; returnTo: string | undefined }) {
  const title = kind === "signup" ? "Sign up" : "Log in";
  return (
    <form method="post" action={`/${kind}`} className="card" aria-labelledby={`${kind}-title`}>
      <h2 id={`${kind}-title`}>{title}</h2>
      {returnTo ? <input type="hidden" name="returnTo" value={returnTo} /> : null}
      <div className="field">
        <label htmlFor={`${kind}-email`}>Email</label>
        <input
          className="input"
          id={`${kind}-email`}
          name="email"
          type="email"
          autoComplete="email"
          required
        />
      </div>
      <div className="field">
        <label htmlFor={`${kind}-password`}>Password</label>
        <input
          className="input"
          id={`${kind}-password`}
          name="password"
          type="password"
          autoComplete={kind === "signup" ? "new-password" : "current-password"}
          minLength={kind === "signup" ? 8 : undefined}
          required
        />
      </div>
      <button type="submit" className={`button ${kind === "signup" ? "button-primary" : "button-secondary"}`}>
        {title}
      </button>
    </form>
  );
}

const NOTICES: Record<string, { alert: boolean; text: string }> = {
  "password-changed": {
    alert: false,
    text: "Password changed. Every step-up and trusted device of yours has ended.",
  },
  "password-wrong": { alert: true, text: "That is not your current password." },
  "password-invalid": { alert: true, text: "Give your current password and a new one of 8+ characters." },
};

/** Change password: a credential change, which ends every step-up and trusted device of the user. */
function PasswordForm({ notice }: { notice: string | undefined }) {
  const said = notice === undefined ? undefined : NOTICES[notice];
  return (
    <>
      <h2 className="section-title">Change password</h2>
      <form method="post" action="/password">
        {said ? (
          <div className={said.alert ? "alert" : "lead"} role={said.alert ? "alert" : "status"}>
            <p>{said.text}</p>
          </div>
        ) : null}
        <div className="field">
          <label htmlFor="current-password">Current password</label>
          <input
            className="input"
            id="current-password"
            name="password"
            type="password"
            autoComplete="current-password"
            required
          />
        </div>
        <div className="field">
          <label htmlFor="new-password">New password</label>
          <input
            className="input"
            id="new-password"
            name="newPassword"
            type="password"
            autoComplete="new-password"
            minLength={8}
            required
          />
        </div>
        <button type="submit" className="button button-secondary">
          Change password
        </button>
      </form>
    </>
  );
}

function SignedIn({ email, notice }: { email: string; notice: string | undefined }) {
  const link = (href: string, label: string) => (
    <a className="button button-secondary" href={href}>
      {label}
    </a>
  );
  return (
    <>
      <div className="card">
        <h1>stepup demo (Next.js)</h1>
        <p className="lead">
          Signed in as <strong>{email}</strong>. Each action below asks for a second factor when your last one
          is too old.
        </p>
        <p className="rule" id="policy">
          {`Step-up policy: ${demo().policyLine}.`}
        </p>
        <p>
          <a className="button button-primary" href="/stepup/console">
            Two-step verification console
          </a>
        </p>
        <h2 className="section-title">Protected actions</h2>
        <ul className="actions">
          <Action title="Admin panel" rule="admin:read · 15 min · a trusted device passes">
            {link("/admin", "Open")}
          </Action>
          <Action title="Export data (JSON)" rule="data:export · 5 min · a trusted device passes">
            {link("/api/export", "Export")}
          </Action>
          <Action title="Security settings" rule="security:manage · 5 min · passkey only">
            {link("/admin/security", "Open")}
          </Action>
          <Action title="Vault" rule="vault:open · 5 min · passkey with user verification">
            {link("/vault", "Open")}
          </Action>
          <Action
            title="Transfer"
            rule="payment:transfer · bound to this transaction · over 1000 always asks"
          >
            <form method="post" action="/transfer">
              <div className="field">
                <label htmlFor="amount">Amount</label>
                <input className="input" id="amount" name="amount" defaultValue="100" inputMode="decimal" />
              </div>
              <div className="field">
                <label htmlFor="to">To</label>
                <input className="input" id="to" name="to" defaultValue="alice" />
              </div>
              <button type="submit" className="button button-secondary">
                Transfer
              </button>
            </form>
          </Action>
          <Action
            title="Delete my account (Server Action)"
            rule="account:delete · 5 min · the step-up dialog"
          >
            <DeleteAccountButton />
          </Action>
          <Action title="Delete my account (plain form)" rule="account:delete · 5 min · the challenge page">
            <form method="post" action="/account/delete">
              <input type="hidden" name="confirm" value="yes" />
              <button type="submit" className="button button-danger">
                Delete my account
              </button>
            </form>
          </Action>
        </ul>
        <PasswordForm notice={notice} />
      </div>
      <div className="card footer">
        <span>Done for now?</span>
        <form method="post" action="/logout">
          <button type="submit" className="button button-secondary">
            Log out
          </button>
        </form>
      </div>
    </>
  );
}

/** The demo's home page: sign up / log in, then the protected actions, each with its rule. */
/** Where the sign-in redirect came from (a same-origin path; the login route checks it again). */
function safeReturnTo(value: string | string[] | undefined): string | undefined {
  return typeof value === "string" && value.startsWith("/") && !value.startsWith("//") ? value : undefined;
}

export default async function Home({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { email } = await session();
  const params = await searchParams;
  if (email)
    return <SignedIn email={email} notice={typeof params.notice === "string" ? params.notice : undefined} />;
  const returnTo = safeReturnTo(params.returnTo);
  return (
    <>
      <div className="card">
        <h1>stepup demo (Next.js)</h1>
        <p className="lead">
          Sign up (or log in), add an authenticator app in the console, then try a protected action.
        </p>
      </div>
      <div className="grid">
        <CredentialsForm kind="signup" returnTo={returnTo} />
        <CredentialsForm kind="login" returnTo={returnTo} />
      </div>
    </>
  );
}
