import { session } from "../lib/auth-routes";
import { DeleteAccountButton } from "./delete-account-button";

export const dynamic = "force-dynamic";

/** The demo's home page: sign up / log in, then links to each protected route. */
export default async function Home() {
  const { email } = await session();
  return (
    <>
      <h1>stepup demo (Next.js)</h1>
      {email ? (
        <>
          <p>
            Signed in as <strong>{email}</strong>.
          </p>
          <ul>
            <li>
              <a href="/stepup/console">Two-step verification console</a> (enroll an authenticator app first)
            </li>
            <li>
              <a href="/admin">Admin panel</a> (admin:read, 15 min)
            </li>
            <li>
              <a href="/api/export">Export data (JSON)</a> (data:export, 5 min)
            </li>
            <li>
              <a href="/admin/security">Security settings</a> (security:manage, 5 min, passkey only)
            </li>
            <li>
              <a href="/vault">Vault</a> (vault:open, 5 min, passkey with user verification)
            </li>
          </ul>
          <DeleteAccountButton />
          <form method="post" action="/account/delete">
            <input type="hidden" name="confirm" value="yes" />
            <button type="submit">Delete my account</button> (account:delete, 5 min, plain form)
          </form>
          <form method="post" action="/transfer">
            <label>
              Amount <input name="amount" defaultValue="100" />
            </label>{" "}
            <label>
              To <input name="to" defaultValue="alice" />
            </label>{" "}
            <button type="submit">Transfer</button> (bound to this transaction)
          </form>
          <form method="post" action="/logout">
            <button type="submit">Log out</button>
          </form>
        </>
      ) : (
        <>
          <form method="post" action="/signup">
            <h2>Sign up</h2>
            <label>
              Email <input name="email" type="email" required />
            </label>{" "}
            <label>
              Password <input name="password" type="password" minLength={8} required />
            </label>{" "}
            <button type="submit">Sign up</button>
          </form>
          <form method="post" action="/login">
            <h2>Log in</h2>
            <label>
              Email <input name="email" type="email" required />
            </label>{" "}
            <label>
              Password <input name="password" type="password" required />
            </label>{" "}
            <button type="submit">Log in</button>
          </form>
        </>
      )}
    </>
  );
}
