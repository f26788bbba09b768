// The step-up flow a client of the consumer app goes through, over plain node:http (a browser
// would send the same headers; Node's fetch rewrites some of them).
import { request as httpRequest } from "node:http";

const STEP_MS = 30_000;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

/** One browser: a cookie jar, `Origin` on every write, `Host: localhost:<port>` (WebAuthn-style origin). */
function client(port) {
  const origin = `http://localhost:${port}`;
  const jar = new Map();
  return function call(method, path, { json, headers = {} } = {}) {
    const body = json === undefined ? undefined : JSON.stringify(json);
    const cookie = [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
    const sent = {
      host: `localhost:${port}`,
      accept: "application/json",
      ...(method === "GET" ? {} : { origin }),
      ...(cookie ? { cookie } : {}),
      ...(body === undefined
        ? {}
        : { "content-type": "application/json", "content-length": Buffer.byteLength(body) }),
      ...headers,
    };
    return new Promise((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port, method, path, headers: sent }, (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          text += chunk;
        });
        res.on("end", () => {
          for (const line of res.headers["set-cookie"] ?? []) {
            const [pair, ...attributes] = line.split(";");
            const [name, ...value] = pair.split("=");
            const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a));
            if (expired) jar.delete(name.trim());
            else jar.set(name.trim(), value.join("="));
          }
          let parsed;
          try {
            parsed = text ? JSON.parse(text) : undefined;
          } catch {
            parsed = undefined;
          }
          resolve({
            status: res.statusCode,
            type: String(res.headers["content-type"] ?? ""),
            text,
            body: parsed,
          });
        });
      });
      req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
      req.once("error", (error) => reject(new Error(`${method} ${path}: ${error.message}`)));
      req.end(body);
    });
  };
}

function expectStatus(res, status, what) {
  check(res.status === status, `${what}: expected ${status}, got ${res.status} ${res.text.slice(0, 300)}`);
  return res.body;
}

/** A fresh lowercase user name (the toy login accepts [a-z]), so runs on one Redis never meet. */
function userName() {
  return Array.from(crypto.getRandomValues(new Uint8Array(12)), (b) =>
    String.fromCharCode(97 + (b % 26)),
  ).join("");
}

/**
 * Signs a new user in with the app's toy login, enrolls TOTP, meets the guard's 401, verifies the
 * challenge, passes the guard; then checks that a failing getUser is a 500 (not a dead process) and
 * that logout ends the step-up. Returns the steps taken; throws at the first surprise.
 * @param totpCode - (secret, atMs) => the code of that time step (otplib from the consumer app)
 */
export async function stepUpFlow(port, totpCode) {
  const call = client(port);
  const steps = [];
  expectStatus(await call("POST", "/login", { json: { name: userName() } }), 200, "toy login");
  steps.push("login");

  // Enroll, confirming with the previous step's code so the current one stays free for the
  // verification (each step is accepted once per user); keep clear of a step boundary.
  const left = STEP_MS - (Date.now() % STEP_MS);
  if (left < 3_000) await new Promise((r) => setTimeout(r, left + 50));
  const started = expectStatus(
    await call("POST", "/stepup/api/factors/totp", { json: {} }),
    201,
    "enroll TOTP",
  );
  check(
    typeof started?.factorId === "string" && typeof started?.secret === "string",
    `enroll answered ${JSON.stringify(started)}`,
  );
  const confirmCode = await totpCode(started.secret, Date.now() - STEP_MS);
  const confirmPath = `/stepup/api/factors/totp/${started.factorId}/confirm`;
  expectStatus(await call("POST", confirmPath, { json: { code: confirmCode } }), 200, "confirm TOTP");
  steps.push("enroll TOTP");

  const denied = await call("GET", "/admin");
  const problem = expectStatus(denied, 401, "guarded route before the step-up");
  check(denied.type.startsWith("application/problem+json"), `401 content-type ${denied.type}`);
  check(problem?.error === "step_up_required", `401 error ${problem?.error}`);
  check(typeof problem?.challengeId === "string", "401 has no challengeId");
  steps.push("401 step_up_required");

  const code = await totpCode(started.secret, Date.now());
  const verifyPath = `/stepup/api/challenges/${problem.challengeId}/verify`;
  const verified = expectStatus(
    await call("POST", verifyPath, { json: { factor: "totp", code } }),
    200,
    "verify",
  );
  check(verified?.success === true, `verify answered ${JSON.stringify(verified)}`);
  steps.push("verify");

  const granted = expectStatus(await call("GET", "/admin"), 200, "guarded route after the step-up");
  check(
    granted?.admin === true && granted?.factor === "totp" && typeof granted?.verifiedAt === "string",
    `200 body ${JSON.stringify(granted)}`,
  );
  steps.push("200");

  // A failing getUser (auth backend down) reaches the app's error handler on the guard and on the
  // router; on Express 4 an unhandled rejection would end the process instead.
  const failing = { headers: { "x-fail-auth": "1" } };
  expectStatus(await call("GET", "/admin", failing), 500, "guard with a failing getUser");
  expectStatus(
    await call("POST", "/stepup/api/challenges", { ...failing, json: {} }),
    500,
    "router with a failing getUser",
  );
  expectStatus(await call("GET", "/admin"), 200, "guarded route after the failures (process alive)");
  steps.push("failing getUser -> 500, process alive");

  expectStatus(await call("POST", "/logout", { json: {} }), 200, "logout");
  expectStatus(await call("GET", "/admin"), 401, "guarded route after logout");
  steps.push("logout -> 401");
  return steps;
}
