// What openStepUp hands the dialog about "Remember this device": the days from the server's
// challenge data (an opened challenge, a 401 step_up_required, a given challenge), checked as
// untrusted JSON, and nothing when the app hides the box (`rememberDevice: false`). The dialog
// itself is stubbed: this runs without a DOM (the Chromium tests cover the box on screen).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ModalContext } from "./modal.js";

const runModal = vi.fn(async (ctx: ModalContext) => ({
  success: false,
  payload: [{ success: false, sid: null, timestamp: null, action: ctx.action, error: "cancelled" }],
}));
vi.mock("./modal.js", async (importOriginal) => ({
  ...(await importOriginal<typeof import("./modal.js")>()),
  runModal,
}));
const { openStepUp } = await import("./open-step-up.js");
const { stepUpFetch } = await import("./step-up-fetch.js");

const json = (body: Record<string, unknown>, status = 201, type = "application/json") =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": type } });
const totp = { id: "f1", type: "totp", name: "Phone", primary: true, title: "App", prompt: { kind: "code" } };
const opened = (extra: Record<string, unknown> = {}) =>
  json({ challengeId: "c1", expiresAt: "2030-01-01T00:00:00Z", factors: [totp], ...extra });

let fetchSpy: ReturnType<typeof vi.fn<typeof fetch>>;
const lastContext = () => runModal.mock.calls.at(-1)?.[0];

beforeEach(() => {
  runModal.mockClear();
  fetchSpy = vi.fn<typeof fetch>();
  vi.stubGlobal("fetch", fetchSpy);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("openStepUp: Remember this device", () => {
  it("offers the box for the days of the challenge it opens", async () => {
    fetchSpy.mockResolvedValueOnce(opened({ trustedDeviceDays: 30 }));
    await openStepUp({ resource: "account", action: "delete" });
    expect(lastContext()).toMatchObject({ challengeId: "c1", trustedDeviceDays: 30 });
  });

  it("no box when the server sends no days (trusted devices off) or a value that is not a number of days", async () => {
    for (const days of [undefined, 0, -3, 2.5, "30", 10_000]) {
      fetchSpy.mockResolvedValueOnce(opened(days === undefined ? {} : { trustedDeviceDays: days }));
      await openStepUp({ resource: "account", action: "delete" });
      expect(lastContext(), String(days)).not.toHaveProperty("trustedDeviceDays");
    }
  });

  it("rememberDevice: false hides it; true (or nothing) keeps the server's days", async () => {
    const challenge = { challengeId: "c2", factors: [], trustedDeviceDays: 7 };
    await openStepUp({ resource: "a", action: "b", challenge, rememberDevice: false });
    expect(lastContext()).toMatchObject({ challengeId: "c2" });
    expect(lastContext()).not.toHaveProperty("trustedDeviceDays");
    await openStepUp({ resource: "a", action: "b", challenge, rememberDevice: true });
    expect(lastContext()).toMatchObject({ trustedDeviceDays: 7 });
    fetchSpy.mockResolvedValueOnce(opened({ trustedDeviceDays: 30 }));
    await openStepUp({ resource: "a", action: "b", rememberDevice: false });
    expect(lastContext()).not.toHaveProperty("trustedDeviceDays");
    expect(fetchSpy).toHaveBeenCalledTimes(1);
  });

  it("stepUpFetch passes the 401 step_up_required's days to the dialog", async () => {
    const problem = {
      error: "step_up_required",
      resource: "data",
      action: "export",
      challengeId: "c3",
      challengeUrl: "/stepup/challenge/c3",
      factors: [totp],
      trustedDeviceDays: 14,
    };
    fetchSpy.mockResolvedValueOnce(json(problem, 401, "application/problem+json"));
    const response = await stepUpFetch("http://localhost/api/export");
    expect(response.status).toBe(401); // the stubbed dialog was cancelled: the original answer
    expect(lastContext()).toMatchObject({ challengeId: "c3", basePath: "/stepup", trustedDeviceDays: 14 });
  });
});
