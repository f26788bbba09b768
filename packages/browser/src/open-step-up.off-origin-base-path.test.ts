// Attack: an off-origin base path. The client joins `basePath` into the URL it POSTs the user's
// one-time codes, passkey assertions and credentialed calls to. `//evil.example` and `/\evil.example`
// look like paths but browsers resolve them to another host; `https://evil.example` and
// `javascript:` are not paths at all. A base path comes from app code or, in `stepUpFetch` and
// `useStepUp`, from a server's `challengeUrl`; anything but a same-origin absolute path is refused
// with a TypeError before any request is made.
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { apiUrl, callApi } from "./api.js";
import { openStepUp } from "./open-step-up.js";
import { stepUpFetch } from "./step-up-fetch.js";
import { registerPasskey, verifyWithPasskey } from "./webauthn.js";

const HOSTILE = [
  "//evil.example",
  "/\\evil.example",
  "\\\\evil.example",
  "https://evil.example",
  "javascript:alert(1)",
  "/\t/evil.example", // the URL parser drops tabs and newlines: this is //evil.example
  "/stepup\n/x",
  "stepup",
  "",
  "/",
];

const problem = (body: Record<string, unknown>, status = 401) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/problem+json" } });

let fetchSpy: ReturnType<typeof vi.fn<typeof fetch>>;

beforeEach(() => {
  fetchSpy = vi.fn<typeof fetch>(async () => problem({ error: "unauthenticated" }));
  vi.stubGlobal("fetch", fetchSpy);
});

afterEach(() => {
  vi.unstubAllGlobals();
});

describe("browser client: off-origin base paths", () => {
  it("openStepUp refuses them with a TypeError before any request", async () => {
    for (const basePath of HOSTILE) {
      await expect(openStepUp({ resource: "account", action: "delete", basePath }), basePath).rejects.toThrow(
        TypeError,
      );
      const challenge = { challengeId: "c1", factors: [] };
      await expect(
        openStepUp({ resource: "account", action: "delete", basePath, challenge }),
      ).rejects.toThrow(TypeError);
    }
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it("every API call refuses them: callApi, registerPasskey, verifyWithPasskey", async () => {
    const passkey = [
      {
        id: "f1",
        type: "webauthn",
        name: "Key",
        primary: true,
        title: "Passkey",
        prompt: { kind: "webauthn" },
      },
    ] as const;
    for (const basePath of HOSTILE) {
      expect(() => apiUrl(basePath, "api/factors"), basePath).toThrow(TypeError);
      await expect(callApi(basePath, "api/factors", undefined, fetchSpy)).rejects.toThrow(TypeError);
      await expect(registerPasskey(basePath, { fetchImpl: fetchSpy })).rejects.toThrow(TypeError);
      await expect(verifyWithPasskey(basePath, "c1", passkey)).rejects.toThrow(TypeError);
    }
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it("stepUpFetch refuses a challengeUrl outside this origin: only the original request is made", async () => {
    for (const challengeUrl of ["//evil.example/challenge/c1", "/\\evil.example/challenge/c1"]) {
      fetchSpy.mockClear();
      fetchSpy.mockResolvedValueOnce(
        problem({
          error: "step_up_required",
          resource: "data",
          action: "export",
          challengeId: "c1",
          challengeUrl,
        }),
      );
      await expect(stepUpFetch("http://localhost/api/export")).rejects.toThrow(TypeError);
      expect(fetchSpy).toHaveBeenCalledTimes(1);
    }
  });

  it("control: same-origin mount paths are called as given", async () => {
    for (const basePath of ["/stepup", "/stepup/", "/app/step-up_2.v1"]) {
      const result = await openStepUp({ resource: "account", action: "delete", basePath });
      expect(result.payload[0].error).toBe("unauthenticated");
    }
    expect(fetchSpy.mock.calls.map(([url]) => url)).toEqual([
      "/stepup/api/challenges",
      "/stepup/api/challenges",
      "/app/step-up_2.v1/api/challenges",
    ]);
  });
});
