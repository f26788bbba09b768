import { memoryStore, type Store } from "@stepup/core";
import {
  adminsFromEnv,
  type DemoAdmins,
  type DemoPolicy,
  type DemoRedisConfig,
  type DemoSenders,
  type DemoWebhooks,
  policyFromEnv,
  redisConfigFromEnv,
  sendersFromEnv,
  tokenKeyFromEnv,
  webhooksFromEnv,
} from "@stepup/example-shared";
import { demoRedis } from "@stepup/example-shared/redis";
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
let admins: DemoAdmins;
let redisConfig: DemoRedisConfig | undefined;
let webhooks: DemoWebhooks;
try {
  // REDIS_URL (one server) or REDIS_CLUSTER_NODES (host:port,... of a Redis Cluster); neither: memory.
  redisConfig = redisConfigFromEnv(process.env);
  // STEPUP_TOKEN_KEY: processes sharing a REDIS_URL need the same one (the dev key, or yours).
  tokenKey = tokenKeyFromEnv(process.env);
  // SMTP_URL / SMS_WEBHOOK_URL; unset, each code message is printed on one line here.
  senders = sendersFromEnv(process.env);
  // STEPUP_POLICY, STEPUP_GRACE_DAYS, STEPUP_TRUSTED_DAYS, STEPUP_SIGNIN.
  policy = policyFromEnv(process.env);
  // ADMIN_EMAILS: who may open /admin/users and the admin API.
  admins = adminsFromEnv(process.env);
  // WEBHOOK_URL, WEBHOOK_SECRET (and WEBHOOK_RETRY_SECONDS); unset, no webhooks.
  webhooks = webhooksFromEnv(process.env);
} catch (error) {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
}

// The client's options (fail fast, recover after a failover) are in examples/shared/src/redis.ts.
const redis = redisConfig ? demoRedis(redisConfig) : undefined;
const store: Store = redis?.store ?? memoryStore();
// A Redis Cluster client fails calls made before it is ready: listen once it is (or 10 s have passed).
if (redis && !(await redis.ready))
  console.error("demo: the Redis Cluster is not reachable yet: requests answer 503 until it is");

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
  admins: admins.emails,
  ...(webhooks.options ? { webhooks: webhooks.options } : {}),
  onEvent: (event) =>
    console.log(
      `stepup event: ${event.type} user=${event.userId}${event.metadata?.reason ? ` reason=${event.metadata.reason}` : ""}`,
    ),
});

const server = app.listen(port);
server.once("listening", () => {
  console.log(`stepup demo on http://localhost:${port} (${redis?.label ?? "memory store"})`);
  for (const note of [...senders.notes, ...policy.notes, ...admins.notes, ...webhooks.notes])
    console.log(`  ${note}`);
});
server.once("error", (error: NodeJS.ErrnoException) => {
  // Without this the process kept running, unbound, after printing nothing useful.
  const reason = error.code === "EADDRINUSE" ? `port ${port} is already in use (set PORT)` : error.message;
  console.error(`demo: cannot listen: ${reason}`);
  void redis?.client.quit();
  process.exit(1);
});

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    server.close();
    // The webhook worker finishes the delivery in flight (what is left stays in the outbox).
    void app.closeStepUp().finally(() => void redis?.client.quit());
  });
}
