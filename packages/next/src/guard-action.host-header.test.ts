// Threat: the request headers of a Server Action are the client's. A Host (or X-Forwarded-Host,
// with trustProxy) with userinfo such as `a@b` made `guardAction` build a Request from a URL with
// credentials, which throws: the action got `internal_error` and the error was logged as unexpected
// (found by the fuzzer, test/fuzz.next.test.ts). One with a path, query or fragment made an origin
// of it all the same. Such a host is no origin of ours: `origin_mismatch`, like a foreign Origin.
import { memoryStore, totp } from "@stepup/core";
import { describe, expect, it } from "vitest";
import { createStepUp } from "./create-step-up.js";

function setup(trustProxy = false) {
  let incoming: Record<string, string> = {};
  const logged: string[] = [];
  const stepup = createStepUp(
    {
      store: memoryStore(),
      secret: "unit-test-secret-0123456789abcdef-0123456789",
      appName: "Test",
      factors: [totp()],
      getUser: () => ({ id: "u1" }),
      trustProxy,
      logger: { warn() {}, error: (m) => void logged.push(m) },
    },
    {
      headers: async () => new Headers(incoming),
      cookies: async () => ({ set() {} }),
    },
  );
  return {
    stepup,
    logged,
    headers: (h: Record<string, string>) => {
      incoming = h;
    },
  };
}

const opts = { resource: "account", action: "delete", maxAge: 300 };

describe("guardAction with a Host header that is more than a host and port", () => {
  it.each(["a@b", "user:pass@localhost:3000", "localhost:3000/x", "localhost:3000#x", "localhost:3000?x"])(
    "Host: %s is origin_mismatch, never internal_error",
    async (host) => {
      const { stepup, logged, headers } = setup();
      headers({ host, origin: `http://${host}` });
      expect(await stepup.guardAction(opts)).toEqual({ ok: false, error: "origin_mismatch" });
      expect(logged).toEqual([]);
    },
  );

  it("X-Forwarded-Host: a@b behind a trusted proxy is origin_mismatch, never internal_error", async () => {
    const { stepup, logged, headers } = setup(true);
    headers({ host: "localhost:3000", "x-forwarded-host": "a@b", origin: "https://a@b" });
    expect(await stepup.guardAction(opts)).toEqual({ ok: false, error: "origin_mismatch" });
    expect(logged).toEqual([]);
  });

  it("a plain host and port still passes the origin check", async () => {
    const { stepup, headers } = setup();
    headers({ host: "localhost:3000", origin: "http://localhost:3000" });
    const result = await stepup.guardAction(opts);
    expect("stepUpRequired" in result).toBe(true);
  });
});
