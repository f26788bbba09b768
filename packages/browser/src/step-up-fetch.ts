import { openStepUp, readFactors } from "./open-step-up.js";

async function stepUpProblem(response: Response): Promise<Record<string, unknown> | undefined> {
  if (response.status !== 401) return undefined;
  if (!(response.headers.get("content-type") ?? "").startsWith("application/problem+json")) return undefined;
  try {
    const body = (await response.clone().json()) as Record<string, unknown>;
    return body.error === "step_up_required" ? body : undefined;
  } catch {
    return undefined;
  }
}

/** The mount path, from the problem's `challengeUrl` (`/stepup/challenge/<id>` -> `/stepup`). */
function basePathOf(problem: Record<string, unknown>): string {
  const url = typeof problem.challengeUrl === "string" ? problem.challengeUrl : "";
  const at = url.lastIndexOf("/challenge/");
  return at > 0 && url.startsWith("/") ? url.slice(0, at) : "/stepup";
}

/**
 * `fetch` that steps up when the server asks: on a 401 `application/problem+json` with
 * `error: "step_up_required"` it opens the step-up modal for that challenge and, once verified,
 * retries the request once. When the user cancels, the original 401 response is returned.
 * Requests carry same-origin cookies (the `Request` default).
 *
 * @throws TypeError when the problem's `challengeUrl` does not lie under a same-origin absolute path
 * (e.g. `//evil.example/challenge/x`): no step-up request is made.
 * @example
 * const res = await stepUpFetch("/api/export");
 * if (res.ok) download(await res.json());
 */
export async function stepUpFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const request = new Request(input, init);
  // A clone made before sending: a body stream can only be read once.
  const retry = request.clone();
  const response = await fetch(request);
  const problem = await stepUpProblem(response);
  if (!problem || typeof problem.resource !== "string" || typeof problem.action !== "string") return response;
  const result = await openStepUp({
    resource: problem.resource,
    action: problem.action,
    basePath: basePathOf(problem),
    // The rule's words for the action ("open the admin panel"), shown as text in the dialog.
    ...(typeof problem.label === "string" ? { label: problem.label } : {}),
    ...(typeof problem.challengeId === "string"
      ? {
          challenge: {
            challengeId: problem.challengeId,
            factors: readFactors(problem.factors),
            // What the user approves (a transaction rule's description), shown in the dialog.
            ...(typeof problem.description === "string" ? { description: problem.description } : {}),
            // Days "Remember this device" lasts (absent when trusted devices are off); checked by openStepUp.
            ...(typeof problem.trustedDeviceDays === "number"
              ? { trustedDeviceDays: problem.trustedDeviceDays }
              : {}),
          },
        }
      : {}),
  });
  return result.success ? fetch(retry) : response;
}
