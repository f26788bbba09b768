// `trustedDeviceDays` in the challenge data a client gets (the guard's 401, a Server Action's
// result, `POST {basePath}/api/challenges`): what the step-up modal needs to offer "Remember this
// device for N days". Absent when trusted devices are off, so no client offers a box that does nothing.
import { describe, expect, it } from "vitest";
import { browser, fakeClock } from "../../test/browser-client.js";
import { testHttp } from "../../test/helpers.js";
import type { StepUpHttpOptions } from "../create-step-up-http.js";

const alice = { id: "alice", email: "alice@example.com" };

async function challengeData(policy?: StepUpHttpOptions["policy"]) {
  const clock = fakeClock();
  const http = testHttp({ clock, ...(policy === undefined ? {} : { policy }) });
  const admin = http.guard({ resource: "admin", action: "read" });
  const b = browser(http);
  await b.enrollTotp(alice, clock);
  const request = new Request("http://localhost:3000/protected", { headers: { accept: "application/json" } });
  const outcome = await admin(request, { user: alice });
  if (outcome.kind !== "step-up-required") throw new Error(`expected a challenge, got ${outcome.kind}`);
  const response = http.render(request, outcome);
  const problem = (await response.json()) as Record<string, unknown>;
  const action = http.stepUpRequired(outcome);
  const opened = await b.api(alice, "POST", "challenges", { resource: "admin", action: "read" });
  expect(response.status).toBe(401);
  expect(opened.status).toBe(201);
  return { problem, action, opened: opened.body };
}

describe("trustedDeviceDays in challenge data", () => {
  it("is the policy's days (30 by default) in the 401, the Server Action result and the opened challenge", async () => {
    const { problem, action, opened } = await challengeData();
    expect(problem.trustedDeviceDays).toBe(30);
    expect(action.trustedDeviceDays).toBe(30);
    expect(opened.trustedDeviceDays).toBe(30);
  });

  it("follows policy.trustedDevices.days", async () => {
    const { problem, action, opened } = await challengeData({ trustedDevices: { days: 7 } });
    expect([problem.trustedDeviceDays, action.trustedDeviceDays, opened.trustedDeviceDays]).toEqual([
      7, 7, 7,
    ]);
  });

  it("is absent when trusted devices are off", async () => {
    const { problem, action, opened } = await challengeData({ trustedDevices: false });
    expect(problem).not.toHaveProperty("trustedDeviceDays");
    expect(action).not.toHaveProperty("trustedDeviceDays");
    expect(opened).not.toHaveProperty("trustedDeviceDays");
  });
});
