// Memory and start-up: what an app loads by importing stepup. Libraries only some apps use are loaded
// on first use: @simplewebauthn/server (WebAuthn), nodemailer (email codes), jose (step-up tokens),
// qrcode (a TOTP enrolment's QR code). Each costs 0.8-4.7 MB of heap in every process, and the guard's
// process marks its whole heap at each full collection. Checked on the built packages, in a fresh
// Node process, with Node's own module-loading trace (NODE_DEBUG=esm,module).
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const here = fileURLToPath(new URL(".", import.meta.url));

/** The files a fresh process loads to run `code` (an ES module body), from Node's trace. */
function loadedBy(code: string): string {
  const run = spawnSync(process.execPath, ["--input-type=module", "-e", code], {
    cwd: here,
    env: { ...process.env, NODE_DEBUG: "esm,module" },
    encoding: "utf8",
    timeout: 30_000,
  });
  expect(run.status, run.stderr.slice(-2000)).toBe(0);
  return run.stderr;
}

const LAZY = ["@simplewebauthn/server", "nodemailer", "jose", "qrcode"];
const inTrace = (trace: string, pkg: string) => trace.includes(`/node_modules/${pkg}/`);

describe("importing stepup loads only what every app needs", () => {
  it("@stepup/express with TOTP, WebAuthn and email configured loads none of the libraries used on demand", () => {
    const trace = loadedBy(`
      import { stepUp } from "@stepup/express";
      import { email, memoryStore, totp, webauthn } from "@stepup/core";
      stepUp({
        store: memoryStore(),
        secret: "a".repeat(40),
        appName: "A",
        getUser: () => null,
        factors: [
          totp(),
          webauthn({ rpID: "localhost", origins: ["http://localhost:3000"] }),
          email({ smtp: "smtp://127.0.0.1:2525", from: "A <no-reply@a.test>" }),
        ],
      });
    `);
    // The trace names what it loads (otplib is used at every TOTP verification: loaded at once).
    expect(inTrace(trace, "otplib")).toBe(true);
    for (const pkg of LAZY) expect(inTrace(trace, pkg), pkg).toBe(false);
  });
});
