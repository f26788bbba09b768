import { htmlResponse } from "@stepup/example-shared";
import { getIronSession } from "iron-session";
import { cookies } from "next/headers";
import { authErrorPage, type FormError } from "./auth-page";
import { type DemoSession, demo } from "./demo";

type Body = Record<string, unknown>;

async function readBody(request: Request): Promise<{ body: Body; form: boolean }> {
  const type = request.headers.get("content-type") ?? "";
  if (type.startsWith("application/x-www-form-urlencoded")) {
    return { body: Object.fromEntries(new URLSearchParams(await request.text())), form: true };
  }
  try {
    const body = (await request.json()) as unknown;
    return { body: typeof body === "object" && body !== null ? (body as Body) : {}, form: false };
  } catch {
    return { body: {}, form: false };
  }
}

function credentials(body: Body): { email: string; password: string } | undefined {
  const { email, password } = body;
  if (typeof email !== "string" || typeof password !== "string") return undefined;
  if (!/^[^\s@]{1,64}@[^\s@]{1,190}$/.test(email) || password.length < 8 || password.length > 200)
    return undefined;
  return { email, password };
}

/** Where a form login goes next: the `returnTo` the sign-in redirect carried, same-origin only. */
function returnTo(body: Body): string {
  const value = body.returnTo;
  if (typeof value !== "string" || !value.startsWith("/") || value.startsWith("//") || value.includes("\\"))
    return "/";
  return value;
}

/**
 * A form post gets a page (on success, back to where the sign-in redirect came from; on failure,
 * the form again with the error); a JSON client gets JSON, exactly as before.
 */
function reply(form: boolean, status: number, body: Body, error?: FormError, back = "/"): Response {
  if (form && status < 400) return new Response(null, { status: 303, headers: { location: back } });
  if (form && error) return htmlResponse(authErrorPage(error), status);
  return Response.json(body, { status });
}

/** The email a failed form post carried, to fill back in. */
function emailOf(body: Body): string | undefined {
  return typeof body.email === "string" && body.email.length <= 254 ? body.email : undefined;
}

export const session = async () => getIronSession<DemoSession>(await cookies(), demo().sessionOptions);

export async function signup(request: Request): Promise<Response> {
  const { body, form } = await readBody(request);
  const c = credentials(body);
  const email = emailOf(body);
  if (!c) {
    const detail = "Give an email and a password of 8+ characters.";
    return reply(form, 400, { error: "invalid_input", detail }, { form: "signup", message: detail, email });
  }
  const user = await demo().users.signup(c.email, c.password);
  if (!user) {
    const message = "That email is already registered. Log in instead, or use another one.";
    return reply(form, 409, { error: "email_taken" }, { form: "signup", message, email });
  }
  await startSession(user);
  return reply(form, 201, { id: user.id, email: user.email }, undefined, returnTo(body));
}

export async function login(request: Request): Promise<Response> {
  const { body, form } = await readBody(request);
  const c = credentials(body);
  const user = c && (await demo().users.login(c.email, c.password));
  if (!user) {
    const message = "That email and password do not match an account.";
    return reply(
      form,
      401,
      { error: "invalid_credentials" },
      { form: "login", message, email: emailOf(body) },
    );
  }
  // STEPUP_SIGNIN=1: a user with a second factor proves it before the session starts. stepup
  // answers (the challenge page, or 401 step_up_required for JSON) and sends them to
  // /login/complete after; null means no second factor is due: log in now.
  if (demo().policy.signIn) {
    const back = returnTo(body);
    const target = back === "/" ? "/login/complete" : `/login/complete?returnTo=${encodeURIComponent(back)}`;
    const challenge = await demo().stepup.beginSignIn(request, user.id, { returnTo: target });
    if (challenge) return challenge;
  }
  await startSession(user);
  return reply(form, 200, { id: user.id, email: user.email }, undefined, returnTo(body));
}

async function startSession(user: { id: string; email: string }): Promise<void> {
  const s = await session();
  Object.assign(s, { userId: user.id, email: user.email });
  await s.save();
}

/**
 * After the sign-in challenge: the browser comes back here (GET); a JSON client POSTs. Once only,
 * and only in the browser that verified.
 */
export async function completeSignIn(request: Request): Promise<Response> {
  const done = demo().policy.signIn ? await demo().stepup.completeSignIn(request) : null;
  const user = done ? await demo().users.findById(done.userId) : undefined;
  const json =
    request.method === "POST" &&
    !(request.headers.get("content-type") ?? "").startsWith("application/x-www-form-urlencoded");
  if (!user) {
    if (json) return Response.json({ error: "sign_in_incomplete" }, { status: 401 });
    const message = "That sign-in was not completed (or was already used). Log in again.";
    return htmlResponse(authErrorPage({ form: "login", message }), 401);
  }
  await startSession(user);
  const response = json
    ? Response.json({ signedIn: true, id: user.id, email: user.email })
    : new Response(null, {
        status: 303,
        headers: {
          location: returnTo({ returnTo: new URL(request.url).searchParams.get("returnTo") ?? undefined }),
        },
      });
  // Ends the pending sign-in (its cookie): stepup hands the Set-Cookie for our response.
  for (const c of done?.headers.getSetCookie() ?? []) response.headers.append("set-cookie", c);
  return response;
}

/**
 * Change password `{ password, newPassword }`: a credential change, so stepup ends every step-up
 * and trusted device of the user on every process (and RISK_BASED asks for a factor again).
 */
export async function changePassword(request: Request): Promise<Response> {
  const { body, form } = await readBody(request);
  const current = await session();
  if (!current.userId || !current.email) return Response.json({ error: "unauthenticated" }, { status: 401 });
  const { password, newPassword } = body;
  if (
    typeof password !== "string" ||
    typeof newPassword !== "string" ||
    newPassword.length < 8 ||
    newPassword.length > 200
  ) {
    const detail = "Give your current password and a new one of 8+ characters.";
    return form
      ? redirectHome("password-invalid")
      : Response.json({ error: "invalid_input", detail }, { status: 400 });
  }
  const user = await demo().users.changePassword(current.email, password, newPassword);
  if (!user) {
    return form
      ? redirectHome("password-wrong")
      : Response.json({ error: "invalid_credentials" }, { status: 403 });
  }
  await demo().stepup.http.engine.markCredentialChange(user.id);
  return form ? redirectHome("password-changed") : Response.json({ changed: true });
}

/** Back to the home page, which says what happened (`?notice=`). */
function redirectHome(notice: string): Response {
  return new Response(null, { status: 303, headers: { location: `/?notice=${notice}` } });
}

export async function logout(request: Request): Promise<Response> {
  const { form } = await readBody(request.clone());
  // End the app's own session first: logging out must work even while the store is down.
  (await session()).destroy();
  const response = reply(form, 200, { ok: true });
  response.headers.append("set-cookie", await demo().stepup.clear(request));
  return response;
}
