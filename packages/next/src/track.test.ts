// Threats: an app action recorded for the wrong user or without its client address; a `track`
// call that resolves before the event is stored; a call without a signed-in user recorded as nobody.
import { memoryStore, totp } from "@stepup/core";
import { describe, expect, it } from "vitest";
import { createStepUp } from "./create-step-up.js";
import type { ActionRequestApi } from "./guard-action.js";

const api: ActionRequestApi = {
  headers: async () => new Headers(),
  cookies: async () => ({ set() {} }),
} as unknown as ActionRequestApi;

function setup() {
  return createStepUp(
    {
      store: memoryStore(),
      secret: "unit-test-secret-0123456789abcdef-0123456789",
      appName: "Test",
      factors: [totp()],
      getUser: (request) => {
        const id = request.headers.get("x-user");
        return id ? { id } : null;
      },
      clientIp: (request) => request.headers.get("x-real-ip") ?? undefined,
      logger: { warn() {}, error() {} },
    },
    api,
  );
}

const post = (headers: Record<string, string>) =>
  new Request("http://localhost:3000/api/payout", { method: "POST", headers });

describe("@stepup/next track()", () => {
  it("records the signed-in user's action with the client address, stored when it resolves", async () => {
    const stepup = setup();
    const event = await stepup.track(
      post({ "x-user": "alice", "x-real-ip": "198.51.100.7" }),
      { tag: "payout.approved", severity: "high", status: "failed", metadata: { amount: 1200 } },
      { webhook: true },
    );
    const [entry] = await stepup.http.engine.audit.list("alice");
    expect(entry).toMatchObject({
      id: event.id,
      type: "track",
      tag: "payout.approved",
      status: "failed",
      severity: "high",
      ip: "198.51.100.7",
      metadata: { amount: 1200 },
    });
  });

  it("refuses a call without a signed-in user, recording nothing", async () => {
    const stepup = setup();
    await expect(stepup.track(post({}), { tag: "payout.approved" })).rejects.toThrow(/signed-in user/);
    await expect(stepup.track(post({ "x-user": "alice" }), { tag: "bad tag" })).rejects.toThrow(TypeError);
    expect(await stepup.http.engine.audit.list("alice")).toEqual([]);
  });
});
