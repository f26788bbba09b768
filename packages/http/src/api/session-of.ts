import { StepUpError, type StepUpUser } from "@stepup/core";
import type { HttpContext } from "../http-context.js";

/** The caller's step-up session id from the cookie; undefined when there is none of this user. */
export async function sessionIdOf(
  http: HttpContext,
  request: Request,
  user: StepUpUser,
): Promise<string | undefined> {
  const cookie = await http.cookie.read(request.headers.get("cookie"), http.engine.now(), request);
  return cookie && cookie.uid === user.id ? cookie.sid : undefined;
}

/** The caller's step-up session id, or a new one with the Set-Cookie that creates it. */
export async function currentSid(
  http: HttpContext,
  request: Request,
  user: StepUpUser,
): Promise<{ sid: string; setCookie?: string }> {
  const existing = await sessionIdOf(http, request, user);
  if (existing) return { sid: existing };
  const sid = http.engine.newSessionId();
  return { sid, setCookie: await http.cookie.issue({ sid, uid: user.id }, new URL(request.url)) };
}

/**
 * The session a challenge must be answered from. Without our cookie there is no session, and a
 * challenge opened in another session cannot be completed here (the engine compares the two).
 */
export async function sessionForChallenge(
  http: HttpContext,
  request: Request,
  user: StepUpUser,
): Promise<string> {
  const sid = await sessionIdOf(http, request, user);
  if (!sid)
    throw new StepUpError("CHALLENGE_SESSION_MISMATCH", "This verification belongs to another session.");
  return sid;
}
