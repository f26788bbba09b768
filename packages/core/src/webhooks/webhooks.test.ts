// Threats: a forged or altered webhook accepted by a receiver (signatures must verify with the
// reference library, also across a secret rotation); an event lost when the receiver is down or
// the process dies before delivery; one event delivered twice at once by two workers; a receiver
// that hangs holding up delivery or the request path; a redirect steering deliveries elsewhere
// (SSRF); a 410 ignored; an app's `track` event leaking to webhooks it did not ask for.
import { startWebhookReceiver, type WebhookReceiver } from "@stepup/testkit";
import { afterEach, describe, expect, it } from "vitest";
import { alice, codeAt, enrollAlice, fakeClock, testEngine } from "../../test/helpers.js";
import type { StepUpOptions } from "../index.js";
import { memoryStore } from "../store/memory-store.js";
import type { Store } from "../store/store.js";
import { outboxKey, WEBHOOK_SCOPE } from "./outbox.js";
import { generateWebhookSecret } from "./signature.js";
import { endpointKey } from "./webhook-options.js";

const SECRET = generateWebhookSecret();
const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function receiver(secrets = [SECRET]): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver(secrets);
  cleanup.push(() => r.close());
  return r;
}

/**
 * An engine whose clock starts at the real time (the reference library refuses a timestamp more
 * than 5 minutes off) and moves only when told. `worker: false` unless asked: the test drives
 * `deliverDue()`, so nothing races it.
 */
function engineWith(
  webhooks: StepUpOptions["webhooks"],
  opts: { store?: Store; clock?: ReturnType<typeof fakeClock> } = {},
) {
  const clock = opts.clock ?? fakeClock(Date.now());
  const store = opts.store ?? memoryStore({ clock });
  const logs: { message: string; meta?: Record<string, unknown> }[] = [];
  const log = (message: string, meta?: Record<string, unknown>) => void logs.push({ message, meta });
  const t = testEngine({ webhooks, logger: { warn: log, error: log } }, store, clock);
  cleanup.push(() => t.engine.close());
  return { ...t, logs };
}

const endpoint = (r: WebhookReceiver, extra: object = {}) => ({ url: r.url, secret: SECRET, ...extra });

describe("webhooks: Standard Webhooks signatures", () => {
  it("every event reaches the receiver signed, verified by the reference library, body { type, timestamp, data }", async () => {
    const r = await receiver();
    const t = engineWith({ endpoints: [endpoint(r)], worker: false });
    await enrollAlice(t);
    const { challenge } = await t.engine.openChallenge(alice, "s", t.engine.rules.lookup("a", "b"));
    await t.engine.challenges.verify(
      alice,
      "s",
      challenge.id,
      { factor: "totp", code: await codeAt(t.clock.now()) },
      "203.0.113.9",
    );
    await t.engine.track(
      alice.id,
      { tag: "payout.approved", severity: "high", metadata: { amount: 1200 } },
      { webhook: true },
    );
    await t.engine.webhooks?.deliverDue();
    const types = r.accepted().map((d) => d.payload.type);
    expect(types).toEqual(
      expect.arrayContaining(["factor.enrolled", "challenge.opened", "verification.succeeded", "track"]),
    );
    for (const d of r.received) {
      expect(d.verifiedWith).toEqual([0]);
      expect(d.id).toBe(d.payload.data.id);
      expect(d.id).toMatch(/^evt_/);
      expect(d.payload.timestamp).toBe(d.payload.data.at);
      expect(Math.abs(Number(d.timestamp) * 1000 - Date.now())).toBeLessThan(60_000);
    }
    const verified = r.accepted().find((d) => d.payload.type === "verification.succeeded");
    expect(verified?.payload.data).toMatchObject({
      userId: "alice",
      ip: "203.0.113.9",
      factor: "totp",
      resource: "a",
      action: "b",
      severity: "low",
    });
    // Never a code or secret in a body.
    const all = r.received.map((d) => d.body).join("\n");
    expect(all).not.toContain(await codeAt(t.clock.now()));
    expect(all).not.toMatch(/secret/i);
  });

  it("a rotation signs with every secret: receivers on the old and on the new secret both verify", async () => {
    const next = generateWebhookSecret();
    const r = await receiver([SECRET, next]);
    const t = engineWith({ endpoints: [{ url: r.url, secret: [SECRET, next] }], worker: false });
    await t.engine.revokeSession(alice.id, "s");
    await t.engine.webhooks?.deliverDue();
    expect(r.received).toHaveLength(1);
    expect(r.received[0]?.verifiedWith).toEqual([0, 1]);
    expect(r.received[0]?.signature.split(" ")).toHaveLength(2);
  });

  it("a body or id altered in transit fails the reference library's verification", async () => {
    const r = await receiver();
    const t = engineWith({ endpoints: [endpoint(r)], worker: false });
    await t.engine.revokeSession(alice.id, "s");
    await t.engine.webhooks?.deliverDue();
    const d = r.received[0];
    if (!d) throw new Error("nothing delivered");
    const { Webhook } = await import("standardwebhooks");
    const v = new Webhook(SECRET);
    const headers = {
      "webhook-id": d.id,
      "webhook-timestamp": d.timestamp,
      "webhook-signature": d.signature,
    };
    expect(() => v.verify(d.body, headers)).not.toThrow();
    expect(() => v.verify(d.body.replace("alice", "mallory"), headers)).toThrow();
    expect(() => v.verify(d.body, { ...headers, "webhook-id": "evt_other" })).toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(d.body, headers)).toThrow();
  });
});

describe("webhooks: at-least-once from the outbox", () => {
  it("the event is in the outbox before the call that caused it resolves", async () => {
    const r = await receiver();
    const t = engineWith({ endpoints: [endpoint(r)], worker: false });
    const event = await t.engine.track(alice.id, { tag: "export.started" }, { webhook: true });
    const queued = await t.store.claim(WEBHOOK_SCOPE, outboxKey(endpointKey(r.url)), t.clock.now(), 1000, 10);
    expect(queued).toHaveLength(1);
    expect(JSON.parse(queued[0]?.value ?? "{}").event).toMatchObject({
      id: event.id,
      type: "track",
      tag: "export.started",
    });
  });

  it("a receiver that fails then recovers gets the same webhook-id again, on the retry schedule", async () => {
    const r = await receiver();
    r.mode = "fail";
    const t = engineWith({ endpoints: [endpoint(r)], retrySchedule: [5, 60], worker: false });
    await t.engine.revokeSession(alice.id, "s");
    await t.engine.webhooks?.deliverDue();
    expect(r.received.map((d) => d.status)).toEqual([500]);
    // Not due before its delay.
    t.clock.advance(4000);
    await t.engine.webhooks?.deliverDue();
    expect(r.received).toHaveLength(1);
    t.clock.advance(1000);
    r.mode = "ok";
    await t.engine.webhooks?.deliverDue();
    expect(r.received.map((d) => d.status)).toEqual([500, 204]);
    expect(r.received[1]?.id).toBe(r.received[0]?.id);
    // Delivered: never again.
    t.clock.advance(3_600_000);
    await t.engine.webhooks?.deliverDue();
    expect(r.received).toHaveLength(2);
  });

  it("after the last retry the event is given up and logged (no endless outbox)", async () => {
    const r = await receiver();
    r.mode = "fail";
    const t = engineWith({ endpoints: [endpoint(r)], retrySchedule: [1, 1], worker: false });
    await t.engine.revokeSession(alice.id, "s");
    for (let i = 0; i < 5; i++) {
      await t.engine.webhooks?.deliverDue();
      t.clock.advance(1000);
    }
    expect(r.received).toHaveLength(3);
    expect(t.logs.some((l) => l.message.includes("given up"))).toBe(true);
    expect(JSON.stringify(t.logs)).not.toContain("/webhooks"); // the origin only, never the path
  });

  it("a hung receiver costs one timeout, then the event is retried (never held in the request)", async () => {
    const r = await receiver();
    r.mode = "hang";
    const t = engineWith({ endpoints: [endpoint(r)], timeout: 200, retrySchedule: [1], worker: false });
    const started = performance.now();
    await t.engine.revokeSession(alice.id, "s");
    expect(performance.now() - started).toBeLessThan(150);
    await t.engine.webhooks?.deliverDue();
    expect(performance.now() - started).toBeLessThan(2000);
    r.mode = "ok";
    t.clock.advance(1000);
    await t.engine.webhooks?.deliverDue();
    expect(r.accepted()).toHaveLength(1);
  });

  it("a redirect is never followed (a receiver cannot steer deliveries to another host)", async () => {
    const r = await receiver();
    const elsewhere = await receiver();
    r.mode = "redirect";
    r.redirectTo = elsewhere.url;
    const t = engineWith({ endpoints: [endpoint(r)], retrySchedule: [1], worker: false });
    await t.engine.revokeSession(alice.id, "s");
    await t.engine.webhooks?.deliverDue();
    await new Promise((res) => setTimeout(res, 100));
    expect(r.received.map((d) => d.status)).toEqual([307]);
    expect(elsewhere.received).toHaveLength(0);
  });

  it("410 Gone disables the endpoint for every process until enable(url)", async () => {
    const r = await receiver();
    r.mode = "gone";
    const store = memoryStore();
    const a = engineWith({ endpoints: [endpoint(r)], worker: false }, { store });
    const b = engineWith({ endpoints: [endpoint(r)], worker: false }, { store });
    await a.engine.revokeSession(alice.id, "s");
    await a.engine.webhooks?.deliverDue();
    expect(r.received.map((d) => d.status)).toEqual([410]);
    expect(await b.engine.webhooks?.status()).toEqual([{ url: r.url, disabled: true }]);
    r.mode = "ok";
    await b.engine.revokeSession(alice.id, "s");
    await b.engine.webhooks?.deliverDue();
    expect(r.received).toHaveLength(1);
    await b.engine.webhooks?.enable(r.url);
    await a.engine.revokeSession(alice.id, "s");
    await a.engine.webhooks?.deliverDue();
    expect(r.accepted()).toHaveLength(1);
  });

  it("events recorded by a process that stopped before delivering are delivered by another", async () => {
    const r = await receiver();
    const store = memoryStore();
    const recorder = engineWith({ endpoints: [endpoint(r)], worker: false }, { store });
    for (let i = 0; i < 5; i++) await recorder.engine.revokeSession(alice.id, `s${i}`);
    await recorder.engine.close();
    expect(r.received).toHaveLength(0);
    const worker = engineWith({ endpoints: [endpoint(r)], pollInterval: 20 }, { store });
    await r.waitFor((got) => got.length >= 5);
    expect(new Set(r.accepted().map((d) => d.id)).size).toBe(5);
    await worker.engine.close();
  });

  it("a rolling deploy that adds an endpoint: a process without it leaves its items for the processes that have it", async () => {
    // Bug: the old process claimed the new endpoint's retry and dropped it as "no longer configured".
    const r1 = await receiver();
    const r2 = await receiver();
    const clock = fakeClock(Date.now());
    const store = memoryStore({ clock });
    const schedule = { retrySchedule: [5, 60], worker: false };
    const old = engineWith({ endpoints: [endpoint(r1)], ...schedule }, { store, clock });
    const current = engineWith({ endpoints: [endpoint(r1), endpoint(r2)], ...schedule }, { store, clock });
    r2.mode = "fail";
    await current.engine.revokeSession(alice.id, "s");
    await current.engine.webhooks?.deliverDue();
    expect(r2.received.map((d) => d.status)).toEqual([500]);
    r2.mode = "ok";
    clock.advance(5000);
    // The old process looks first: r2's retry is due, and not one of its endpoints.
    await old.engine.webhooks?.deliverDue();
    expect(r2.received).toHaveLength(1);
    expect(old.logs.map((l) => l.message).join()).not.toContain("dropped");
    await current.engine.webhooks?.deliverDue();
    expect(r2.accepted()).toHaveLength(1);
    expect(r2.accepted()[0]?.id).toBe(r1.accepted()[0]?.id);
    expect(r1.received).toHaveLength(1);
  });

  it("an endpoint removed from the options: its queue is left alone, the others go on", async () => {
    const r1 = await receiver();
    const gone = await receiver();
    const clock = fakeClock(Date.now());
    const store = memoryStore({ clock });
    const before = engineWith({ endpoints: [endpoint(r1), endpoint(gone)], worker: false }, { store, clock });
    await before.engine.revokeSession(alice.id, "s");
    await before.engine.close();
    const after = engineWith({ endpoints: [endpoint(r1)], worker: false }, { store, clock });
    await after.engine.webhooks?.deliverDue();
    await after.engine.webhooks?.deliverDue();
    expect(r1.accepted()).toHaveLength(1);
    expect(gone.received).toHaveLength(0);
    // Still queued for it: an endpoint put back in the options gets it.
    const back = engineWith({ endpoints: [endpoint(gone)], worker: false }, { store, clock });
    await back.engine.webhooks?.deliverDue();
    expect(gone.accepted().map((d) => d.id)).toEqual(r1.accepted().map((d) => d.id));
  });

  it("two workers on one store never deliver one event twice, nor at the same time", async () => {
    const r = await receiver();
    r.delayMs = 30;
    const clock = fakeClock(Date.now());
    const store = memoryStore({ clock });
    const a = engineWith({ endpoints: [endpoint(r)], pollInterval: 10 }, { store, clock });
    const b = engineWith({ endpoints: [endpoint(r)], pollInterval: 10 }, { store, clock });
    await Promise.all(
      Array.from({ length: 40 }, (_, i) => (i % 2 ? a : b).engine.revokeSession(alice.id, `s${i}`)),
    );
    await r.waitFor((got) => got.length >= 40);
    await new Promise((res) => setTimeout(res, 200));
    expect(r.received).toHaveLength(40);
    expect(new Set(r.received.map((d) => d.id)).size).toBe(40);
    expect(r.maxInFlightPerId).toBe(1);
  });
});

describe("webhooks: what goes where", () => {
  it("track() reaches webhooks only when asked, and only endpoints that take track", async () => {
    const all = await receiver();
    const noTrack = await receiver();
    const t = engineWith({
      endpoints: [endpoint(all), endpoint(noTrack, { events: ["user.revoked"] })],
      worker: false,
    });
    await t.engine.track(alice.id, { tag: "quiet" });
    await t.engine.track(alice.id, { tag: "loud", status: "failed" }, { webhook: true });
    await t.engine.revokeUser(alice.id);
    await t.engine.webhooks?.deliverDue();
    expect(all.accepted().map((d) => [d.payload.type, d.payload.data.tag])).toEqual(
      expect.arrayContaining([
        ["track", "loud"],
        ["user.revoked", undefined],
      ]),
    );
    expect(all.accepted().some((d) => d.payload.data.tag === "quiet")).toBe(false);
    expect(noTrack.accepted().map((d) => d.payload.type)).toEqual(["user.revoked"]);
    // Both tracks are in the audit log all the same.
    const tags = (await t.engine.audit.list(alice.id))
      .filter((e) => e.type === "track")
      .map((e) => ("tag" in e ? e.tag : ""));
    expect(tags.sort()).toEqual(["loud", "quiet"]);
  });

  it("track() refuses what it must not store: bad tag, severity, status, oversized or nested metadata", async () => {
    const { engine } = engineWith(undefined);
    const bad = [
      { tag: "" },
      { tag: "has space" },
      { tag: "x".repeat(101) },
      { tag: "ok", severity: "urgent" },
      { tag: "ok", status: "<b>" },
      { tag: "ok", metadata: { nested: { a: 1 } } },
      { tag: "ok", metadata: { long: "x".repeat(501) } },
      { tag: "ok", metadata: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, i])) },
      { tag: "ok", metadata: { n: Number.NaN } },
    ];
    for (const input of bad) await expect(engine.track(alice.id, input as never)).rejects.toThrow(TypeError);
    expect(await engine.audit.list(alice.id)).toHaveLength(0);
    await expect(
      engine.track(alice.id, { tag: "ok", metadata: { amount: 5, note: "fine", flag: true } }),
    ).resolves.toMatchObject({
      type: "track",
      severity: "low",
      status: "succeeded",
      metadata: { amount: 5, note: "fine", flag: true },
    });
  });

  it("bad webhook options stop start-up naming the option", () => {
    const make = (webhooks: unknown) => () => engineWith(webhooks as StepUpOptions["webhooks"]);
    expect(make({ endpoints: [] })).toThrow(/webhooks\.endpoints/);
    expect(make({ endpoints: [{ url: "http://example.com/hook", secret: SECRET }] })).toThrow(
      /endpoints\[0\]\.url.*https/,
    );
    expect(make({ endpoints: [{ url: "https://user:pw@example.com/", secret: SECRET }] })).toThrow(
      /endpoints\[0\]\.url/,
    );
    expect(make({ endpoints: [{ url: "https://example.com/", secret: "plain" }] })).toThrow(
      /endpoints\[0\]\.secret/,
    );
    expect(make({ endpoints: [{ url: "https://example.com/", secret: "whsec_c2hvcnQ=" }] })).toThrow(
      /endpoints\[0\]\.secret/,
    );
    expect(make({ endpoints: [{ url: "https://example.com/", secret: SECRET, events: ["nope"] }] })).toThrow(
      /endpoints\[0\]\.events/,
    );
    expect(
      make({ endpoints: [{ url: "https://example.com/", secret: SECRET }], retrySchedule: [0] }),
    ).toThrow(/retrySchedule/);
    expect(make({ endpoints: [{ url: "https://example.com/", secret: SECRET }], timeout: 5 })).toThrow(
      /webhooks\.timeout/,
    );
    expect(
      make({
        endpoints: [
          { url: "https://a.example/", secret: SECRET },
          { url: "https://a.example/", secret: SECRET },
        ],
      }),
    ).toThrow(/listed twice/);
    expect(
      make({ endpoints: [{ url: "http://10.0.0.5/hook", secret: SECRET, allowHttp: true }] }),
    ).not.toThrow();
  });
});
