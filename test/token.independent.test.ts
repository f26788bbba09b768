// A step-up token minted by @stepup/core, checked by software that shares no code with it:
// Debian's PyJWT + cryptography (another language, another JOSE and ECDSA implementation), and
// @stepup/verify in another Node process against the JWKS served over HTTP. A signature or
// encoding only stepup itself could read would fail here.
import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createStepUp, generateSigningKey, memoryStore, type StepUpTokenClaims, totp } from "@stepup/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { codeFor } from "./support/totp.js";

const PYTHON = "/usr/bin/python3"; // Debian's: a pyenv shim on PATH may lack the modules
const ISSUER = "https://app.example.com";
const AUDIENCE = "payments";
const here = dirname(fileURLToPath(import.meta.url));

/** Verifies with PyJWT: reads {token, jwks, audience, issuer} on stdin, prints {ok, ...}. */
const PYJWT = `
import json, sys, jwt
req = json.load(sys.stdin)
try:
    header = jwt.get_unverified_header(req["token"])
    if header.get("typ") != "stepup+jwt":
        raise jwt.InvalidTokenError("typ is %r" % header.get("typ"))
    if header.get("alg") != "ES256":
        raise jwt.InvalidAlgorithmError("alg is %r" % header.get("alg"))
    matches = [k for k in req["jwks"]["keys"] if k.get("kid") == header.get("kid")]
    if len(matches) != 1:
        raise jwt.InvalidKeyError("kid %r is not in the JWKS" % header.get("kid"))
    key = jwt.PyJWK(matches[0]).key
    claims = jwt.decode(
        req["token"], key, algorithms=["ES256"], audience=req["audience"], issuer=req["issuer"],
        options={"require": ["iss", "aud", "sub", "iat", "exp", "jti", "sid", "auth_time", "acr", "amr", "scope"]},
    )
    print(json.dumps({"ok": True, "kid": header["kid"], "claims": claims}))
except jwt.PyJWTError as e:
    print(json.dumps({"ok": False, "error": type(e).__name__, "message": str(e)}))
`;

type PyResult = { ok: true; kid: string; claims: StepUpTokenClaims } | { ok: false; error: string };

function pyjwt(token: string, jwks: unknown, audience = AUDIENCE): PyResult {
  const run = spawnSync(PYTHON, ["-c", PYJWT], {
    input: JSON.stringify({ token, jwks, audience, issuer: ISSUER }),
    encoding: "utf8",
    timeout: 20_000,
  });
  if (run.status !== 0) throw new Error(`PyJWT script failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout) as PyResult;
}

/** Verifies with @stepup/verify (its build) in a new node process; prints {ok, claims | code}. */
const NODE_VERIFY = `
import { createStepUpVerifier } from "@stepup/verify";
const { token, jwksUrl, issuer, audience } = JSON.parse(process.env.STEPUP_INPUT);
const verifier = createStepUpVerifier({ jwksUrl, issuer, audience, resource: "payment", action: "send", maxAge: 300 });
try {
  console.log(JSON.stringify({ ok: true, pid: process.pid, claims: await verifier.verify(token) }));
} catch (e) {
  console.log(JSON.stringify({ ok: false, pid: process.pid, code: e.code, message: e.message }));
}
`;

/** Async (never spawnSync): the JWKS server runs in this process and must answer meanwhile. */
async function nodeVerify(token: string, jwksUrl: string, audience = AUDIENCE) {
  const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", NODE_VERIFY], {
    cwd: here, // resolves @stepup/verify as this workspace package (its dist)
    env: { ...process.env, STEPUP_INPUT: JSON.stringify({ token, jwksUrl, issuer: ISSUER, audience }) },
    encoding: "utf8",
    timeout: 20_000,
  });
  return JSON.parse(stdout) as { ok: boolean; pid: number; claims?: StepUpTokenClaims; code?: string };
}

/** The token with one bit of one byte of a part (1 payload, 2 signature) flipped. */
function flipByte(token: string, part: 1 | 2, at: number): string {
  const parts = token.split(".");
  const bytes = Buffer.from(parts[part] as string, "base64url");
  bytes[at] = (bytes[at] as number) ^ 0x01;
  parts[part] = bytes.toString("base64url");
  return parts.join(".");
}

let minted: { token: string; claims: StepUpTokenClaims };
let jwks: { keys: { kid: string }[] };
let server: Server;
let jwksUrl: string;

beforeAll(async () => {
  const probe = spawnSync(PYTHON, ["-c", "import jwt, cryptography"], { encoding: "utf8" });
  if (probe.status !== 0) {
    throw new Error(
      `${PYTHON} cannot import jwt and cryptography (${probe.error?.message ?? probe.stderr.trim()}): ` +
        "install Debian's python3-jwt python3-cryptography (.ci/run does) to verify tokens independently",
    );
  }
  const verifyDist = join(here, "node_modules", "@stepup", "verify", "dist", "index.js");
  if (!existsSync(verifyDist))
    throw new Error("@stepup/verify is not built: run `pnpm turbo run build` first");

  // A real engine on the memory store, on a clock a minute behind: enroll TOTP, step up 30 s
  // later, mint now (real time, so the other verifiers' own clocks agree).
  let offset = -60_000;
  const clock = { now: () => Date.now() + offset };
  const engine = createStepUp({
    store: memoryStore({ clock }),
    secret: "independent-secret-independent-secret-0123",
    appName: "Independent",
    factors: [totp()],
    clock,
    tokens: { issuer: ISSUER, audience: AUDIENCE, keys: [generateSigningKey(), generateSigningKey()] },
    logger: { warn() {}, error() {} },
  });
  const user = { id: "alice" };
  const started = (await engine.factors.enrollStart(user, "totp", {}, undefined)) as {
    factorId: string;
    secret: string;
  };
  const enrollCode = await codeFor(started.secret, clock.now());
  await engine.factors.enrollConfirm(user, "totp", started.factorId, { code: enrollCode }, undefined);
  offset += 30_000;
  const rule = engine.rules.lookup("payment", "send");
  const { challenge } = await engine.openChallenge(user, "s0", rule);
  const code = await codeFor(started.secret, clock.now());
  const verified = await engine.challenges.verify(user, "s0", challenge.id, { factor: "totp", code });
  offset = 0;
  const result = await engine.tokens.mint(user, verified.sid, rule);
  if (!("token" in result)) throw new Error("core did not mint a token");
  minted = result;
  jwks = engine.tokens.jwks();

  server = createServer((req, res) => {
    if (req.url !== "/stepup/.well-known/jwks.json") return void res.writeHead(404).end();
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(jwks));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  jwksUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/stepup/.well-known/jwks.json`;
});

afterAll(async () => {
  if (server) await new Promise((resolve) => server.close(resolve));
});

describe("a token minted by @stepup/core, verified by PyJWT + cryptography (Debian)", () => {
  it("accepts the genuine token: ES256 signature, typ, kid of the first published key, claims", () => {
    const got = pyjwt(minted.token, jwks);
    expect(got).toMatchObject({ ok: true, kid: jwks.keys[0]?.kid });
    if (got.ok) expect(got.claims).toEqual(minted.claims);
  });

  it("rejects the token with a flipped signature byte", () => {
    for (const at of [0, 33, 63]) {
      expect(pyjwt(flipByte(minted.token, 2, at), jwks)).toMatchObject({
        ok: false,
        error: "InvalidSignatureError",
      });
    }
  });

  it("rejects the token with a flipped payload byte", () => {
    const got = pyjwt(flipByte(minted.token, 1, 20), jwks);
    expect(got.ok).toBe(false);
  });

  it("rejects the token for another audience", () => {
    expect(pyjwt(minted.token, jwks, "reports")).toMatchObject({ ok: false, error: "InvalidAudienceError" });
  });
});

describe("the same token, verified by @stepup/verify in another process (JWKS over HTTP)", () => {
  it("verifies there: same claims, another pid", async () => {
    const got = await nodeVerify(minted.token, jwksUrl);
    expect(got).toMatchObject({ ok: true, claims: minted.claims });
    expect(got.pid).not.toBe(process.pid);
  });

  it("refuses a flipped signature byte and another audience there", async () => {
    const flipped = await nodeVerify(flipByte(minted.token, 2, 10), jwksUrl);
    expect(flipped).toMatchObject({ ok: false, code: "TOKEN_INVALID" });
    expect(await nodeVerify(minted.token, jwksUrl, "reports")).toMatchObject({
      ok: false,
      code: "WRONG_AUDIENCE",
    });
  });
});
