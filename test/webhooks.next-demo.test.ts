// Webhooks through the built Next.js demo (`next start`) with WEBHOOK_URL at a real receiver that
// checks every delivery with the reference `standardwebhooks` library. Only what is Next's own: the
// wiring of the same variables, the transfer's `track`, and a worker that runs from start-up (the
// adapter builds stepup on the first request; the demo's instrumentation.ts builds it at once), so
// events another process left in the outbox are delivered without anyone visiting. The Express
// demo's tests (webhooks.demo.test.ts) cover the rest.
import { once } from "node:events";
import { generateWebhookSecret } from "@stepup/core";
import { startWebhookReceiver, type WebhookReceiver } from "@stepup/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, SESSION_SECRET, STEPUP_SECRET, uniqueEmail } from "./support/demo.js";
import { type NextDemo, startNextDemo } from "./support/next.js";
import { addTotp, challengeOf, verify } from "./support/policy.js";
import { Browser, type DemoProcess, spawnDemo } from "./support/process.js";
import { privateRedis } from "./support/redis.js";
import { outboxAttempted } from "./support/webhooks.js";

const SECRET = generateWebhookSecret();

let redis: Awaited<ReturnType<typeof privateRedis>>;
let receiver: WebhookReceiver;
let express: DemoProcess | undefined;
let next: NextDemo | undefined;

beforeAll(async () => {
  redis = await privateRedis();
  receiver = await startWebhookReceiver([SECRET]);
});
afterAll(async () => {
  await next?.stop();
  await express?.stop();
  await receiver?.close();
  await redis?.close();
});

const env = () => ({
  REDIS_URL: redis.server.url,
  WEBHOOK_URL: receiver.url,
  WEBHOOK_SECRET: SECRET,
  WEBHOOK_RETRY_SECONDS: "1,1,1,1,1,1,1,1,1,1",
});

describe("Next demo: webhooks", () => {
  it("events an Express process left in the outbox (then killed) are delivered by a Next process on the same Redis, with no request to it", async () => {
    // The first retry after 5 s: time to kill the process while nothing is being delivered.
    express = await spawnDemo({
      ...env(),
      SESSION_SECRET,
      STEPUP_SECRET,
      WEBHOOK_RETRY_SECONDS: "5,1,1,1,1,1,1,1,1,1",
    });
    receiver.mode = "fail";
    const b = new Browser();
    const signup = await b.post(express.origin, "/signup", {
      email: uniqueEmail("next-hooks"),
      password: PASSWORD,
    });
    expect(signup.status).toBe(201);
    await addTotp(b, express.origin, { email: "", password: PASSWORD, recoveryCodes: [] });
    await receiver.waitFor((got) => got.some((d) => d.payload.type === "factor.enrolled"));
    // Every queued event attempted once (failed) and none in flight: the process is killed between deliveries.
    await outboxAttempted(redis.client, receiver, 6_000);
    const exited = once(express.child, "exit");
    express.child.kill("SIGKILL");
    await exited;
    const left = [...new Set(receiver.received.map((d) => d.id))];
    expect(left.length).toBeGreaterThan(0);
    expect(receiver.accepted()).toHaveLength(0);

    receiver.mode = "ok";
    // startNextDemo only GETs the home page, which does not touch stepup.
    next = await startNextDemo(env());
    await receiver.waitFor(() => left.every((id) => receiver.accepted().some((d) => d.id === id)), 20_000);
    for (const d of receiver.accepted()) expect(d.verifiedWith).toEqual([0]);
    expect(next.output()).toContain(`to ${new URL(receiver.url).origin}`);
    expect(next.output()).not.toContain(SECRET);
  }, 60_000);

  it("enrolment, a step-up and a transfer on the Next demo reach the receiver verified, the transfer as a track event", async () => {
    if (!next) throw new Error("the Next demo did not start");
    const origin = next.origin;
    const b = new Browser();
    const signup = await b.post(origin, "/signup", { email: uniqueEmail("next-hooks"), password: PASSWORD });
    expect(signup.status, signup.text).toBe(201);
    const userId = String(signup.json.id);
    const account = await addTotp(b, origin, { email: "", password: PASSWORD, recoveryCodes: [] });
    await verify(b, origin, challengeOf(await b.get(origin, "/api/export")), account);
    expect((await b.get(origin, "/api/export")).status).toBe(200);
    const transfer = { amount: 75, to: "carol" };
    await verify(b, origin, challengeOf(await b.post(origin, "/transfer", transfer)), account);
    const paid = await b.post(origin, "/transfer", transfer);
    expect(paid.status, paid.text).toBe(200);

    const mine = () => receiver.accepted().filter((d) => d.payload.data.userId === userId);
    await receiver.waitFor(() => mine().some((d) => d.payload.type === "track"), 15_000);
    const types = mine().map((d) => d.payload.type);
    expect(types).toEqual(
      expect.arrayContaining(["factor.enrolled", "challenge.opened", "verification.succeeded", "track"]),
    );
    for (const d of mine()) expect(d.verifiedWith).toEqual([0]);
    const tracks = mine().filter((d) => d.payload.type === "track");
    expect(tracks).toHaveLength(1); // data.exported stays in the audit log
    expect(tracks[0]?.payload.data).toMatchObject({
      tag: "transfer.sent",
      severity: "high",
      metadata: { amount: 75 },
    });
    expect(
      mine()
        .map((d) => d.body)
        .join("\n"),
    ).not.toContain(String(account.secret));
  });
});
