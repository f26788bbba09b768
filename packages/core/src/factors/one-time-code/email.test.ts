// Threats: an attacker holding the password session tries to get through an email code step-up:
// reusing a code, carrying a code across challenges, racing one right code, waiting it out, or
// reading the store; and uses the send button to bomb someone's inbox.
import { describe, expect, it } from "vitest";
import { codeEngine, codeIn, enrollEmail, openFor } from "../../../test/code-factors.js";
import { alice, interceptStore, outcome } from "../../../test/helpers.js";
import { StepUpError } from "../../errors.js";
import { memoryStore } from "../../store/memory-store.js";

const start = (t: ReturnType<typeof codeEngine>, id: string, ip?: string) =>
  t.engine.challenges.start(alice, "s", id, { factor: "email" }, ip);
const verify = (t: ReturnType<typeof codeEngine>, id: string, code: string) =>
  outcome(t.engine.challenges.verify(alice, "s", id, { factor: "email", code }));

describe("email codes", () => {
  it("enrolls the user's address (masked everywhere) and steps up with a mailed code", async () => {
    const t = codeEngine();
    await enrollEmail(t);
    expect(t.mail[0]?.to).toBe("alice@example.com");
    const c = await openFor(t);
    const sent = await start(t, c.id);
    expect(sent).toMatchObject({ sent: true, destination: "a***@example.com" });
    expect(Date.parse(String(sent.expiresAt)) - t.clock.now()).toBe(300_000);
    expect(Date.parse(String(sent.resendAfter)) - t.clock.now()).toBe(30_000);
    const offered = (await t.engine.challenges.show(alice, "s", c.id)).factors.map((f) => t.engine.offer(f));
    expect(offered.find((f) => f.type === "email")).toMatchObject({
      destination: "a***@example.com",
      prompt: { kind: "code", send: true, digits: 6 },
    });
    expect(await verify(t, c.id, codeIn(t.lastMail().text))).toBe("ok");
  });

  it("code reuse: a code that worked once never works again", async () => {
    const t = codeEngine();
    await enrollEmail(t);
    const c = await openFor(t);
    await start(t, c.id);
    const code = codeIn(t.lastMail().text);
    expect(await verify(t, c.id, code)).toBe("ok");
    expect(await verify(t, c.id, code)).toBe("CHALLENGE_NOT_FOUND");
  });

  it("a code sent for challenge A is refused on challenge B", async () => {
    const t = codeEngine();
    await enrollEmail(t);
    const a = await openFor(t);
    const b = await openFor(t);
    await start(t, a.id);
    const codeA = codeIn(t.lastMail().text);
    // B has sent nothing yet: A's code is no code for it.
    expect(await verify(t, b.id, codeA)).toBe("INVALID_CODE");
    await start(t, b.id);
    const codeB = codeIn(t.lastMail().text);
    if (codeA !== codeB) expect(await verify(t, b.id, codeA)).toBe("INVALID_CODE");
    expect(await verify(t, b.id, codeB)).toBe("ok");
  });

  it("concurrent verifies of one right code: exactly one succeeds", async () => {
    const t = codeEngine();
    await enrollEmail(t);
    const c = await openFor(t);
    await start(t, c.id);
    const code = codeIn(t.lastMail().text);
    // Five: the per-challenge budget (a sixth concurrent guess would spend the challenge itself).
    const results = await Promise.all(Array.from({ length: 5 }, () => verify(t, c.id, code)));
    expect(
      results.filter((r) => r !== "ok").every((r) => r === "INVALID_CODE" || r === "CHALLENGE_NOT_FOUND"),
    ).toBe(true);
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
  });

  it("a code expires after codeTtl (5 min by default)", async () => {
    const t = codeEngine();
    await enrollEmail(t);
    const c = await openFor(t);
    await start(t, c.id);
    const code = codeIn(t.lastMail().text);
    t.clock.advance(300_001);
    expect(await verify(t, c.id, code)).toBe("INVALID_CODE");
  });

  it("wrong codes count in the guessing limits: 5 per challenge, then it is gone", async () => {
    const t = codeEngine();
    await enrollEmail(t);
    const c = await openFor(t);
    await start(t, c.id);
    const right = codeIn(t.lastMail().text);
    const bad = right === "000000" ? "111111" : "000000";
    const left: unknown[] = [];
    for (let i = 0; i < 4; i++) {
      try {
        await t.engine.challenges.verify(alice, "s", c.id, { factor: "email", code: bad });
      } catch (e) {
        left.push((e as StepUpError).details.attemptsRemaining);
      }
    }
    expect(left).toEqual([4, 3, 2, 1]);
    expect(await verify(t, c.id, bad)).toBe("INVALID_CODE");
    expect(await verify(t, c.id, right)).toBe("CHALLENGE_EXHAUSTED");
  });

  it("resend: the same code and expiry, at least 30 s apart, at most 3 sends per challenge", async () => {
    const t = codeEngine();
    await enrollEmail(t);
    const c = await openFor(t);
    const first = await start(t, c.id);
    const code = codeIn(t.lastMail().text);
    const early = await start(t, c.id).catch((e: StepUpError) => e);
    expect(early).toMatchObject({ code: "RATE_LIMITED", details: { retryAfter: 30 } });
    t.clock.advance(30_000);
    const second = await start(t, c.id);
    expect(codeIn(t.lastMail().text)).toBe(code);
    expect(second.expiresAt).toBe(first.expiresAt);
    t.clock.advance(30_000);
    await start(t, c.id);
    t.clock.advance(30_000);
    expect(await outcome(start(t, c.id))).toBe("RATE_LIMITED");
    expect(t.mail.filter((m) => m.text.includes(code))).toHaveLength(3);
    expect(await verify(t, c.id, code)).toBe("ok");
  });

  it("concurrent sends: one passes the 30 s spacing, the others are refused", async () => {
    const t = codeEngine();
    await enrollEmail(t);
    const c = await openFor(t);
    const before = t.mail.length;
    const results = await Promise.all(Array.from({ length: 8 }, () => outcome(start(t, c.id))));
    expect(results.filter((r) => r === "ok")).toHaveLength(1);
    expect(t.mail.length - before).toBe(1);
  });

  it("a failing sender is 503 DELIVERY_FAILED and leaves no code valid (fail closed)", async () => {
    const t = codeEngine();
    await enrollEmail(t);
    const c = await openFor(t);
    await start(t, c.id);
    const code = codeIn(t.lastMail().text);
    t.clock.advance(30_000);
    t.senders.failMail = true;
    expect(await outcome(start(t, c.id))).toBe("DELIVERY_FAILED");
    expect(await verify(t, c.id, code)).toBe("INVALID_CODE");
    // The sender's error quoted the message: only its kind is logged, never the code.
    expect(t.logs.join("\n")).not.toContain(code);
    expect(t.logs.some((l) => l.includes("delivery failed"))).toBe(true);
    // A later send works at once (the failed one did not hold the spacing) with a new code.
    t.senders.failMail = false;
    await start(t, c.id);
    expect(await verify(t, c.id, codeIn(t.lastMail().text))).toBe("ok");
  });

  it("a hung sender fails within sendTimeout, and its code never works", async () => {
    let release: () => void = () => {};
    const t = codeEngine({
      email: {
        sendTimeout: 1,
        send: (m) => {
          hung.push(m.text);
          return new Promise<void>((resolve) => {
            release = resolve;
          });
        },
      },
    });
    const hung: string[] = [];
    const started = Date.now();
    const error = await t.engine.factors.enrollStart(alice, "email", {}, undefined).catch((e) => e);
    expect(error).toBeInstanceOf(StepUpError);
    expect(error.code).toBe("DELIVERY_FAILED");
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(Date.now() - started).toBeLessThan(5000);
    release(); // the message arrives late: there is no pending enrollment it could confirm
    expect(hung).toHaveLength(1);
  });

  it("the store never holds the code or the address: a copy of it without the secret reveals neither", async () => {
    const written: string[] = [];
    const inner = memoryStore();
    // Every argument of every store call, whatever the operation.
    const store = interceptStore(inner, (_name, args, call) => {
      written.push(JSON.stringify(args));
      return call();
    });
    const t = codeEngine({ engine: { store } });
    await enrollEmail(t);
    const c = await openFor(t);
    await start(t, c.id);
    const codes = t.mail.filter((m) => m.subject.includes("verification code")).map((m) => codeIn(m.text));
    const all = written.join("\n");
    expect(written.length).toBeGreaterThan(5);
    for (const code of codes) expect(all).not.toContain(code);
    expect(all).not.toContain("alice@example.com");
  });
});

describe("email send limits (mail bombing)", () => {
  it("per destination: accounts an attacker controls cannot bomb one inbox", async () => {
    // Attack: many accounts enrolling the victim's address, each send going to the victim.
    const t = codeEngine();
    const results: string[] = [];
    for (let i = 0; i < 12; i++) {
      const user = { id: `attacker-${i}`, email: `attacker-${i}@evil.test` };
      results.push(
        await outcome(
          t.engine.factors.enrollStart(user, "email", { email: "victim@example.com" }, undefined),
        ),
      );
    }
    expect(results.filter((r) => r === "ok")).toHaveLength(10);
    expect(results.slice(10)).toEqual(["RATE_LIMITED", "RATE_LIMITED"]);
    expect(t.mail.filter((m) => m.to === "victim@example.com")).toHaveLength(10);
  });

  it("per client address: an address over its limit spends nothing of the victim's budget", async () => {
    const t = codeEngine();
    const ip = "203.0.113.9";
    const results: string[] = [];
    for (let i = 0; i < 22; i++) {
      const user = { id: `u-${i}`, email: `u-${i}@example.com` };
      results.push(await outcome(t.engine.factors.enrollStart(user, "email", {}, undefined, ip)));
    }
    expect(results.filter((r) => r === "ok")).toHaveLength(20);
    // Alice, from her own address, still gets her code.
    expect(await outcome(t.engine.factors.enrollStart(alice, "email", {}, undefined, "198.51.100.7"))).toBe(
      "ok",
    );
  });

  it("per user: at most 10 sends an hour, with Retry-After", async () => {
    const t = codeEngine();
    const results: (string | number | undefined)[] = [];
    for (let i = 0; i < 11; i++) {
      const r = await t.engine.factors
        .enrollStart(alice, "email", { email: `a${i}@example.com` }, undefined)
        .then(
          () => "ok",
          (e: StepUpError) => e.details.retryAfter,
        );
      results.push(r);
    }
    expect(results.slice(0, 10).every((r) => r === "ok")).toBe(true);
    expect(results[10]).toBeGreaterThan(3000);
  });

  it("rejects a bad address before sending anything (400 INVALID_INPUT)", async () => {
    const t = codeEngine();
    for (const bad of ["", "nobody", "a@b", "<a@b.c>", 42, `${"a".repeat(250)}@x.io`]) {
      expect(await outcome(t.engine.factors.enrollStart(alice, "email", { email: bad }, undefined))).toBe(
        "INVALID_INPUT",
      );
    }
    expect(t.mail).toHaveLength(0);
  });

  it("rejects an address no mail server takes, or that a mailer would rewrite, before sending (400, not 503)", async () => {
    // Found by fuzzing (test/fuzz.ceremonies.test.ts) against a real SMTP server: these passed the
    // check, then the server refused RCPT TO (501) and the client got 503 delivery_failed ("try
    // again") for an address that can never work; a NUL was dropped by the mailer, so the code went
    // to another address than the one enrolled.
    const t = codeEngine();
    const bad = [
      "a@example.com%00",
      "a@example.com_x",
      "a@exa_mple.com",
      "a@b.exa'mple",
      "a@b.exa!mple",
      "a@b.exa=mple",
      "a@b.exa/mple",
      "a@b.example.",
      "a@b..example",
      "a..b@b.example",
      ".a@b.example",
      "a.@b.example",
      "a\u0000@b.example",
      "a@b.example\u0000",
      "a\u0007b@b.example",
      "a\u001b[31m@b.example",
      "a\u0085@b.example",
    ];
    for (const address of bad) {
      expect(
        await outcome(t.engine.factors.enrollStart(alice, "email", { email: address }, undefined)),
        JSON.stringify(address),
      ).toBe("INVALID_INPUT");
    }
    expect(t.mail).toHaveLength(0);
    // What mail servers take still does, Unicode (SMTPUTF8) included.
    for (const good of [
      "a+tag@b.example",
      "a.b@b.e-xample",
      "ü@exämple.example",
      "用户@例子.广告",
      " a@b.example ",
    ]) {
      const started = await t.engine.factors.enrollStart(alice, "email", { email: good }, undefined);
      expect(started, good).toMatchObject({ factorId: expect.any(String) });
    }
  });
});
