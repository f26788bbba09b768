import { SIGN_IN, StepUpError, type StepUpUser } from "@stepup/core";
import type { HttpContext } from "../http-context.js";

/**
 * The challenge id of one of the four routes a pending sign-in may use, or undefined:
 * `GET`/`POST {basePath}/challenge/:id`, `POST {basePath}/api/challenges/:id/start` and `/verify`.
 * `segments` are the path parts after `basePath`.
 */
function signInRouteChallenge(method: string, segments: readonly string[]): string | undefined {
  const [area, a, b, c] = segments;
  if (area === "challenge" && segments.length === 2 && (method === "GET" || method === "POST")) return a;
  if (
    area === "api" &&
    segments.length === 4 &&
    a === "challenges" &&
    (c === "start" || c === "verify") &&
    method === "POST"
  )
    return b;
  return undefined;
}

/**
 * Who a browser is between the app's password check and the second factor, when the app's
 * `getUser` says nobody: the user of a valid sign-in cookie, on the four challenge routes only, and
 * only for a challenge of the sign-in rule (`session:sign-in`). Anything else is null (the caller
 * answers 401 `unauthenticated`): a password alone must not open the console, the factors API,
 * another rule's challenge or a guard.
 * @throws StepUpError STORE_UNAVAILABLE
 */
export async function signInIdentity(
  http: HttpContext,
  request: Request,
  segments: readonly string[],
): Promise<StepUpUser | null> {
  const id = signInRouteChallenge(request.method, segments);
  if (!id) return null;
  const pending = await http.signInCookie.read(request.headers.get("cookie"), http.engine.now(), request);
  if (!pending) return null;
  let challenge: { resource: string; action: string };
  try {
    challenge = await http.engine.challenges.load(pending.uid, id);
  } catch (error) {
    // A challenge that is gone (expired, used) is no identity either: start again at the password.
    if (error instanceof StepUpError && error.code === "CHALLENGE_NOT_FOUND") return null;
    throw error;
  }
  if (challenge.resource !== SIGN_IN.resource || challenge.action !== SIGN_IN.action) return null;
  return { id: pending.uid };
}
