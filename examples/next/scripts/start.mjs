#!/usr/bin/env node
// Starts the built demo with `next start`, with the same environment contract as the Express demo:
// PORT (default 3000), REDIS_URL or REDIS_CLUSTER_NODES, STEPUP_MAX_AGE, STEPUP_ORIGIN (default
// http://localhost:$PORT, read by lib/demo.ts), SESSION_SECRET / STEPUP_SECRET / STEPUP_TOKEN_KEY, the
// policy: STEPUP_POLICY, STEPUP_GRACE_DAYS, STEPUP_TRUSTED_DAYS, STEPUP_SIGNIN, ADMIN_EMAILS, and the
// webhooks: WEBHOOK_URL, WEBHOOK_SECRET, WEBHOOK_RETRY_SECONDS (checked here, so a bad value stops the
// demo at start-up). `next start` always runs with NODE_ENV=production, so the development-secret
// fallback is decided here, from the environment the demo was started with.
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import {
  adminsFromEnv,
  DEV_TOKEN_KEY,
  policyFromEnv,
  redisConfigFromEnv,
  webhooksFromEnv,
} from "@stepup/example-shared";

const DEV = {
  SESSION_SECRET: "dev-only-session-secret-0123456789abcdef",
  STEPUP_SECRET: "dev-only-stepup-secret-0123456789abcdef",
};
const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1" };
for (const [name, fallback] of Object.entries(DEV)) {
  if (env[name]) continue;
  if (env.NODE_ENV === "production") {
    console.error(
      `demo: ${name} is not set; refusing to start with a development secret under NODE_ENV=production.`,
    );
    process.exit(1);
  }
  console.warn(
    `\n  WARNING: ${name} is not set. Using a fixed DEVELOPMENT value: anyone can forge cookies.\n`,
  );
  env[name] = fallback;
}
// The step-up token signing key: several processes sharing a REDIS_URL need the same one.
if (!env.STEPUP_TOKEN_KEY) {
  if (env.NODE_ENV === "production") {
    console.error(
      "demo: STEPUP_TOKEN_KEY is not set; refusing to start with the development token key under NODE_ENV=production.",
    );
    process.exit(1);
  }
  console.warn(
    "\n  WARNING: STEPUP_TOKEN_KEY is not set. Using a fixed DEVELOPMENT key: anyone can forge step-up tokens.\n",
  );
  env.STEPUP_TOKEN_KEY = DEV_TOKEN_KEY;
}
try {
  // lib/demo.ts reads them again in the server; this only refuses bad values before it starts.
  policyFromEnv(env);
  adminsFromEnv(env);
  redisConfigFromEnv(env);
  webhooksFromEnv(env);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}
const port = env.PORT || "3000";
// lib/demo.ts derives the default passkey origin from PORT: it must be the port actually served.
env.PORT = port;
const host = env.HOST || "localhost";
const next = createRequire(import.meta.url).resolve("next/dist/bin/next");
const child = spawn(process.execPath, [next, "start", "-p", port, "-H", host], {
  env,
  stdio: "inherit",
  cwd: new URL("..", import.meta.url),
});
for (const signal of ["SIGINT", "SIGTERM"]) process.once(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
