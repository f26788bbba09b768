// getStepUpToken: a token when the step-up is fresh, else the dialog for the challenge the server
// already opened, then one more ask. The dialog is stubbed (no DOM here). Attacks: a hostile
// `challengeUrl`-style base path, a server that keeps saying "step up" (no loop), a malformed
// answer taken for a token.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { ModalContext } from "./modal.js";
import type { OpenStepUpResult } from "./types.js";

const verified = (ctx: ModalContext): OpenStepUpResult => ({
  success: true,
  payload: [{ success: true, sid: "s2", timestamp: "2030-01-01T00:00:00Z", action: ctx.action, error: null }],
});
const cancelled = (ctx: ModalContext): OpenStepUpResult => ({
  success: false,
  payload: [{ success: false, sid: null, timestamp: null, action: ctx.action, error: "cancelled" }],
});
const runModal = vi.fn(async (ctx: ModalContext) => verified(ctx));
vi.mock("./modal.js", async (importOriginal) => ({
  ...(await importOriginal<typeof import("./modal.js")>()),
  runModal,
}));
const { getStepUpToken } = await import("./get-step-up-token.js");

const totp = { id: "f1", type: "totp", name: "Phone", primary: true, title: "App", prompt: { kind: "code" } };
const token = { token: "eyJ.a.b", expiresAt: "2030-01-01T00:05:00.000Z" };
const ok = (body: Record<string, unknown> = token) =>
  new Response(JSON.stringify(body), { status: 200, headers: { "content-type": "application/json" } });
const stepUpRequired = (extra: Record<string, unknown> = {}) =>
  new Response(
    JSON.stringify({
      error: "step_up_required",
      challengeId: "c1",
      factors: [totp],
      label: "export your data",
      ...extra,
    }),
    { status: 401, headers: { "content-type": "application/problem+json" } },
  );
const problem = (error: string, status: number) =>
  new Response(JSON.stringify({ error }), {
    status,
    headers: { "content-type": "application/problem+json" },
  });

let fetchSpy: ReturnType<typeof vi.fn<typeof fetch>>;

beforeEach(() => {
  runModal.mockClear();
  runModal.mockImplementation(async (ctx) => verified(ctx));
  fetchSpy = vi.fn<typeof fetch>();
  vi.stubGlobal("fetch", fetchSpy);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("getStepUpToken", () => {
  it("fresh already: one POST to the token API, the token, no dialog", async () => {
    fetchSpy.mockResolvedValueOnce(ok());
    await expect(getStepUpToken({ resource: "data", action: "export" })).resolves.toEqual({
      success: true,
      ...token,
    });
    expect(fetchSpy).toHaveBeenCalledTimes(1);
    const [url, init] = fetchSpy.mock.calls[0] ?? [];
    expect(url).toBe("/stepup/api/token");
    expect(init).toMatchObject({ method: "POST", credentials: "same-origin" });
    expect(JSON.parse(String(init?.body))).toEqual({ resource: "data", action: "export" });
    expect(runModal).not.toHaveBeenCalled();
  });

  it("not fresh: the dialog answers the server's challenge (not a new one), then the token is asked once more", async () => {
    fetchSpy.mockResolvedValueOnce(stepUpRequired({ trustedDeviceDays: 30 })).mockResolvedValueOnce(ok());
    const got = await getStepUpToken({ resource: "data", action: "export", basePath: "/auth/stepup" });
    expect(got).toEqual({ success: true, ...token });
    expect(runModal).toHaveBeenCalledOnce();
    expect(runModal.mock.calls[0]?.[0]).toMatchObject({
      basePath: "/auth/stepup",
      challengeId: "c1",
      label: "export your data",
      trustedDeviceDays: 30,
    });
    expect(fetchSpy.mock.calls.map(([u]) => u)).toEqual(["/auth/stepup/api/token", "/auth/stepup/api/token"]);
  });

  it("the user cancels: `cancelled`, and the token is not asked again", async () => {
    fetchSpy.mockResolvedValueOnce(stepUpRequired());
    runModal.mockImplementationOnce(async (ctx) => cancelled(ctx));
    await expect(getStepUpToken({ resource: "data", action: "export" })).resolves.toEqual({
      success: false,
      error: "cancelled",
    });
    expect(fetchSpy).toHaveBeenCalledTimes(1);
  });

  it("a server that keeps saying step up after a verified step-up is asked once more only: no loop", async () => {
    fetchSpy.mockResolvedValueOnce(stepUpRequired()).mockResolvedValueOnce(stepUpRequired());
    await expect(getStepUpToken({ resource: "data", action: "export" })).resolves.toEqual({
      success: false,
      error: "step_up_required",
    });
    expect(runModal).toHaveBeenCalledOnce();
    expect(fetchSpy).toHaveBeenCalledTimes(2);
  });

  it("other failures come back as codes, never a rejection: tokens off, blocked, network down", async () => {
    fetchSpy.mockResolvedValueOnce(problem("not_found", 404));
    await expect(getStepUpToken({ resource: "a", action: "b" })).resolves.toEqual({
      success: false,
      error: "not_found",
    });
    fetchSpy.mockResolvedValueOnce(problem("step_up_blocked", 403));
    await expect(getStepUpToken({ resource: "a", action: "b" })).resolves.toMatchObject({
      error: "step_up_blocked",
    });
    fetchSpy.mockRejectedValueOnce(new TypeError("Failed to fetch"));
    await expect(getStepUpToken({ resource: "a", action: "b" })).resolves.toMatchObject({
      error: "network_error",
    });
    expect(runModal).not.toHaveBeenCalled();
  });

  it("a 200 with no token in it is a failure, never an empty bearer", async () => {
    fetchSpy.mockResolvedValueOnce(ok({ token: "", expiresAt: "x" }));
    await expect(getStepUpToken({ resource: "a", action: "b" })).resolves.toEqual({
      success: false,
      error: "invalid_response",
    });
  });

  it("an off-origin base path or a missing rule is a TypeError before any request", async () => {
    await expect(getStepUpToken({ resource: "a", action: "b", basePath: "//evil.example" })).rejects.toThrow(
      TypeError,
    );
    await expect(getStepUpToken({ resource: "a" } as never)).rejects.toThrow(TypeError);
    expect(fetchSpy).not.toHaveBeenCalled();
  });
});
