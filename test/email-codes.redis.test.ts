// Attack: racing email codes across app processes that share one Redis: the same right code
// submitted to two processes at once, "Send code" pressed on several processes at once to get
// past the 30 s spacing and the per-destination cap, and a code sent by one process replayed on
// another after it worked. Two engines over one real redis-server stand for two processes.
import { createStepUp, type EmailMessage, email, recoveryCodes, type StepUp, type Store } from "@stepup/core";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { privateRedis } from "./support/redis.js";

let redis: Awaited<ReturnType<typeof privateRedis>>;
const mail: EmailMessage[] = [];

function engine(store: Store): StepUp {
  return createStepUp({
    store,
    secret: "redis-email-test-secret-0123456789abcdef",
    appName: "Acme",
    factors: [email({ send: async (m) => void mail.push(m) }), recoveryCodes()],
    notify: false,
    logger: { warn() {}, error() {} },
  });
}

let a: StepUp;
let b: StepUp;
let n = 0;
const user = () => ({ id: `u${++n}-${Date.now()}`, email: `u${n}@example.com` });
const codeOf = (m: EmailMessage | undefined) => /\b(\d{6})\b/.exec(m?.text ?? "")?.[1] ?? "";
const outcome = (p: Promise<unknown>) =>
  p.then(
    () => "ok",
    (e: { code?: string }) => e.code ?? String(e),
  );

async function enrolled(u: { id: string; email: string }) {
  const started = (await a.factors.enrollStart(u, "email", {}, undefined)) as { factorId: string };
  // Confirmed on the other process: the pending enrollment lives in Redis.
  await b.factors.enrollConfirm(u, "email", started.factorId, { code: codeOf(mail.at(-1)) }, undefined);
}

beforeAll(async () => {
  redis = await privateRedis();
  a = engine(redis.store);
  b = engine(redis.store);
});
afterAll(async () => {
  await redis?.close();
});
beforeEach(async () => {
  await redis.client.flushall();
  mail.length = 0;
});

describe("email codes on Redis, across processes", () => {
  it("a code sent by one process works once, on any process; concurrent submissions: exactly one wins", async () => {
    const u = user();
    await enrolled(u);
    const { challenge } = await a.openChallenge(u, "s", a.rules.lookup("account", "delete"));
    await a.challenges.start(u, "s", challenge.id, { factor: "email" });
    const code = codeOf(mail.at(-1));
    const results = await Promise.all(
      [a, b, a, b, a].map((e) =>
        outcome(e.challenges.verify(u, "s", challenge.id, { factor: "email", code })),
      ),
    );
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
    expect(await outcome(b.challenges.verify(u, "s", challenge.id, { factor: "email", code }))).toBe(
      "CHALLENGE_NOT_FOUND",
    );
  });

  it("Send pressed on both processes at once: one message, the rest 429 RATE_LIMITED", async () => {
    const u = user();
    await enrolled(u);
    const { challenge } = await a.openChallenge(u, "s", a.rules.lookup("account", "delete"));
    const before = mail.length;
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        outcome((i % 2 ? a : b).challenges.start(u, "s", challenge.id, { factor: "email" })),
      ),
    );
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
    expect(results.filter((r) => r === "RATE_LIMITED")).toHaveLength(9);
    expect(mail.length - before).toBe(1);
  });

  it("mail bombing from many accounts on many processes: one inbox gets at most 10 codes an hour", async () => {
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        outcome(
          (i % 2 ? a : b).factors.enrollStart(
            { id: `bomber-${i}` },
            "email",
            { email: "victim@example.com" },
            undefined,
            `198.51.100.${i}`,
          ),
        ),
      ),
    );
    expect(results.filter((r) => r === "ok")).toHaveLength(10);
    expect(mail.filter((m) => m.to === "victim@example.com")).toHaveLength(10);
  });
});
