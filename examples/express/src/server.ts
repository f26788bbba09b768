import { memoryStore, type Store } from "@stepup/core";
import {
  type DemoPolicy,
  type DemoSenders,
  type DemoWebhooks,
  policyFromEnv,
  sendersFromEnv,
  tokenKeyFromEnv,
  webhooksFromEnv,
} from "@stepup/example-shared";
import { redisStore } from "@stepup/redis";
import { Redis } from "ioredis";
import { createDemoApp } from "./app.js";

const DEV_SESSION_SECRET = "dev-only-session-secret-0123456789abcdef";
const DEV_STEPUP_SECRET = "dev-only-stepup-secret-0123456789abcdef";

function secretFromEnv(name: string, fallback: string): string {
  const value = process.env[name];
  if (value) return value;
  if (process.env.NODE_ENV === "production") {
    console.error(
      `demo: ${name} is not set; refusing to start with a development secret under NODE_ENV=production.`,
    );
    process.exit(1);
  }
  console.warn(
    `\n  WARNING: ${name} is not set. Using a fixed DEVELOPMENT value: anyone can forge cookies.\n`,
  );
  return fallback;
}

function maxAgeFromEnv(): number | undefined {
  const raw = process.env.STEPUP_MAX_AGE;
  if (raw === undefined || raw === "") return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    console.error("demo: STEPUP_MAX_AGE must be a whole number of seconds >= 1");
    process.exit(1);
  }
  return value;
}

let senders: DemoSenders;
let policy: DemoPolicy;
let tokenKey: string;
let webhooks: DemoWebhooks;
try {
  // STEPUP_TOKEN_KEY: processes sharing a REDIS_URL need the same one (the dev key, or yours).
  tokenKey = tokenKeyFromEnv(process.env);
  // SMTP_URL / SMS_WEBHOOK_URL; unset, each code message is printed on one line here.
  senders = sendersFromEnv(process.env);
  // STEPUP_POLICY, STEPUP_GRACE_DAYS, STEPUP_TRUSTED_DAYS, STEPUP_SIGNIN.
  policy = policyFromEnv(process.env);
  // WEBHOOK_URL, WEBHOOK_SECRET (and WEBHOOK_RETRY_SECONDS); unset, no webhooks.
  webhooks = webhooksFromEnv(process.env);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

let store: Store;
let redis: Redis | undefined;
if (process.env.REDIS_URL) {
  redis = new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1 });
  redis.on("error", (error) => console.error("demo: redis error:", error.message));
  store = redisStore({ client: redis });
} else {
  store = memoryStore();
}

const port = Number(process.env.PORT ?? 3000);
const app = createDemoApp({
  store,
  // Passkeys are bound to the exact origin browsers use (scheme, host and port).
  origin: process.env.STEPUP_ORIGIN || `http://localhost:${port}`,
  sessionSecret: secretFromEnv("SESSION_SECRET", DEV_SESSION_SECRET),
  stepupSecret: secretFromEnv("STEPUP_SECRET", DEV_STEPUP_SECRET),
  ...(maxAgeFromEnv() === undefined ? {} : { maxAge: maxAgeFromEnv() }),
  senders,
  policy,
  tokenKey,
  ...(webhooks.options ? { webhooks: webhooks.options } : {}),
  onEvent: (event) =>
    console.log(
      `stepup event: ${event.type} user=${event.userId}${event.metadata?.reason ? ` reason=${event.metadata.reason}` : ""}`,
    ),
});

const server = app.listen(port);
server.once("listening", () => {
  console.log(`stepup demo on http://localhost:${port} (${redis ? "Redis store" : "memory store"})`);
  for (const note of [...senders.notes, ...policy.notes, ...webhooks.notes]) console.log(`  ${note}`);
});
server.once("error", (error: NodeJS.ErrnoException) => {
  // Without this the process kept running, unbound, after printing nothing useful.
  const reason = error.code === "EADDRINUSE" ? `port ${port} is already in use (set PORT)` : error.message;
  console.error(`demo: cannot listen: ${reason}`);
  void redis?.quit();
  process.exit(1);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.close();
    // The webhook worker finishes the delivery in flight (what is left stays in the outbox).
    void app.closeStepUp().finally(() => void redis?.quit());
  });
}
