// Email and SMS one-time codes through the Express demo running as a process
// (examples/express/dist/server.js), with SMTP_URL pointing at a real SMTP server and
// SMS_WEBHOOK_URL at a real HTTP receiver: every code in these tests travelled over TCP, as a
// deployment's would. Each describe owns one demo process (send limits count per process).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Channels,
  CodeClient,
  median,
  nowMs,
  otherCode,
  problem,
  startChannels,
  uniquePhone,
  withCode,
} from "./support/codes.js";
import { navigate } from "./support/navigate.js";
import { Browser, type DemoProcess, spawnDemo } from "./support/process.js";

interface Stack {
  channels: Channels;
  demo: DemoProcess;
  client(): CodeClient;
}

/** A demo process whose codes go to real capture servers; stopped after the describe. */
function stack(): Stack {
  const s = {} as Stack;
  beforeAll(async () => {
    s.channels = await startChannels();
    s.demo = await spawnDemo(s.channels.env);
    s.client = () => new CodeClient(new Browser(), s.demo.origin, s.channels);
  }, 30_000);
  afterAll(async () => {
    await s.demo?.stop();
    await s.channels?.close();
  });
  return s;
}

/** The page's forms, each with its action and its fields (hidden and typed). */
function forms(page: string): { action: string; fields: Record<string, string>; html: string }[] {
  return [...page.matchAll(/<form\b[^>]*\baction="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)].map((m) => {
    const fields: Record<string, string> = {};
    for (const input of (m[2] ?? "").matchAll(/<(?:input|button)\b[^>]*>/g)) {
      const name = /\bname="([^"]*)"/.exec(input[0])?.[1];
      const value = /\bvalue="([^"]*)"/.exec(input[0])?.[1];
      if (name !== undefined) fields[name] = value?.replaceAll("&amp;", "&") ?? "";
    }
    return { action: (m[1] ?? "").replaceAll("&amp;", "&"), fields, html: m[0] };
  });
}

describe("Express demo: email and SMS codes step a user up (real SMTP server, real webhook)", () => {
  const s = stack();

  it("an address is proved by the code mailed to it, and /api/export opens only with a code mailed for its challenge", async () => {
    // Attack: enrolling an address you do not own, or opening a guarded route without the mailbox.
    const c = s.client();
    const address = await c.signUp("email-flow");
    const { factorId, mail: enrolMail } = await c.startEmail(address);
    expect(enrolMail.fromHeader).toBe('"Stepup demo" <no-reply@stepup.test>');
    expect(enrolMail.code).toMatch(/^\d{6}$/);
    const wrong = await c.b.post(c.origin, `/stepup/api/factors/email/${factorId}/confirm`, {
      code: otherCode(enrolMail.code),
    });
    expect(wrong.status, wrong.text).toBe(400);
    const confirmed = await c.b.post(c.origin, `/stepup/api/factors/email/${factorId}/confirm`, {
      code: enrolMail.code,
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    expect(confirmed.json).toMatchObject({ factor: { type: "email", name: "e***@example.com" } });

    const id = await c.challenge();
    const started = await c.start(id, "email");
    expect(started.status, started.text).toBe(200);
    expect(started.json).toEqual({
      sent: true,
      destination: "e***@example.com",
      expiresAt: expect.any(String),
      resendAfter: expect.any(String),
    });
    const mail = await s.channels.smtp.waitForMail(address, { match: withCode });
    // The message names the app, the code, what it is for and when it expires; text and HTML alike.
    expect(mail.subject).toContain("Stepup demo");
    expect(mail.text).toContain("Stepup demo");
    expect(mail.text).toContain("export your data");
    expect(mail.text).toMatch(/expires in 5 minutes/);
    expect(mail.html).toContain(mail.code);
    expect(mail.html).toContain("export your data");
    expect(mail.code).not.toBe(enrolMail.code);

    expect((await c.b.get(c.origin, "/api/export")).status).toBe(401);
    const ok = await c.verify(id, "email", mail.code);
    expect(ok.status, ok.text).toBe(200);
    expect(ok.json).toMatchObject({ success: true, resource: "data", action: "export" });
    const exported = await c.b.get(c.origin, "/api/export");
    expect(exported.status, exported.text).toBe(200);
  });

  it("a phone number is proved by the code texted to it, and /api/export opens only with a code texted for its challenge", async () => {
    // Attack: the same, by text message: enrolling a number you do not hold, or skipping the code.
    const c = s.client();
    await c.signUp("sms-flow");
    const phone = uniquePhone();
    await c.enrollSms(phone);
    const id = await c.challenge();
    const sms = await c.sendSms(id, phone);
    // One short line with the code, the app and what it is for.
    expect(sms.text).not.toMatch(/\n/);
    expect(sms.text.length).toBeLessThanOrEqual(160);
    expect(sms.code).toMatch(/^\d{6}$/);
    expect(sms.text).toContain("Stepup demo");
    expect(sms.text).toContain("export your data");
    const ok = await c.verify(id, "sms", sms.code);
    expect(ok.status, ok.text).toBe(200);
    expect((await c.b.get(c.origin, "/api/export")).status).toBe(200);
  });

  it("without JavaScript: the challenge page's Send form mails a code, and posting it opens /admin (303)", async () => {
    // Attack: none new; the guarantee is that the no-JS page flow reaches the same checks as the API.
    const c = s.client();
    const address = await c.signUp("email-page");
    await c.enrollEmail(address);
    const page = await navigate(c.b, c.origin, "/admin");
    expect(page.status).toBe(401);
    expect(page.type).toMatch(/^text\/html/);
    const send = forms(page.text).find((f) => f.fields.intent === "send" && f.fields.factor === "email");
    expect(send, page.text).toBeDefined();
    if (!send) return;
    expect(send.action).toMatch(/^\/stepup\/challenge\/[A-Za-z0-9_-]{16,}$/);
    expect(send.fields.csrf).toBeTruthy();
    expect(send.fields.factorId).toBeTruthy();

    const sent = await navigate(c.b, c.origin, send.action, send.fields);
    expect([200, 303], sent.text).toContain(sent.status);
    const codePage =
      sent.status === 303 ? (await navigate(c.b, c.origin, sent.location ?? "")).text : sent.text;
    const mail = await s.channels.smtp.waitForMail(address, { match: withCode });
    const form = forms(codePage).find(
      (f) => f.fields.factor === "email" && "code" in f.fields && f.fields.intent !== "send",
    );
    expect(form, codePage).toBeDefined();
    if (!form) return;
    const done = await navigate(c.b, c.origin, form.action, { ...form.fields, code: mail.code });
    expect(done.status, done.text).toBe(303);
    expect(done.location).toBe("/admin");
    const admin = await navigate(c.b, c.origin, "/admin");
    expect(admin.status).toBe(200);
    expect(admin.text).toContain("Admin panel");
  });
});

describe("Express demo: a code works once, for one challenge, within the guessing limits", () => {
  const s = stack();

  it("a used code cannot be replayed: not on its challenge (404) and not on the next one (invalid_code)", async () => {
    // Attack: a code read over a shoulder or from a mail archive after the user used it.
    const c = s.client();
    const address = await c.signUp("replay");
    await c.enrollEmail(address);
    const id = await c.challenge();
    const mail = await c.sendEmail(id, address);
    expect((await c.verify(id, "email", mail.code)).status).toBe(200);
    problem(await c.verify(id, "email", mail.code), 404, "challenge_not_found");

    // A new challenge, its own code sent: the old code is not it.
    const next = await c.open("account", "delete");
    expect(next).not.toBe(id);
    const fresh = await c.sendEmail(next, address);
    expect(fresh.code).not.toBe(mail.code);
    const replay = problem(await c.verify(next, "email", mail.code), 400, "invalid_code");
    expect(replay.attemptsRemaining).toBe(4);
    expect((await c.verify(next, "email", fresh.code)).status).toBe(200);
  });

  it("a code mailed for challenge A is refused on challenge B, and A's own code still works on A", async () => {
    // Attack: a code obtained for a harmless action (export) spent on a dangerous one (delete).
    const c = s.client();
    const address = await c.signUp("binding");
    await c.enrollEmail(address);
    const a = await c.challenge("/api/export");
    const b = await c.open("account", "delete");
    const mailA = await c.sendEmail(a, address);
    const mailB = await c.sendEmail(b, address);
    expect(mailB.text).toContain("delete your account");
    problem(await c.verify(b, "email", mailA.code), 400, "invalid_code");
    expect((await c.b.post(c.origin, "/account/delete", {})).status).toBe(401);
    expect((await c.verify(a, "email", mailA.code)).status).toBe(200);
  });

  it("wrong codes count: attemptsRemaining 4..0, then even the right code is refused (429 challenge_exhausted), then 404", async () => {
    // Attack: guessing the 6-digit code online (1 in a million per guess, so guesses must be few).
    const c = s.client();
    const address = await c.signUp("guessing");
    await c.enrollEmail(address);
    const id = await c.challenge();
    const mail = await c.sendEmail(id, address);
    const wrong = otherCode(mail.code);
    for (let left = 4; left >= 0; left--) {
      const body = problem(await c.verify(id, "email", wrong), 400, "invalid_code");
      expect(body.attemptsRemaining).toBe(left);
    }
    problem(await c.verify(id, "email", mail.code), 429, "challenge_exhausted");
    problem(await c.verify(id, "email", mail.code), 404, "challenge_not_found");
    expect((await c.b.get(c.origin, "/api/export")).status).toBe(401);
  });

  it("ten concurrent verifies of one right code: exactly one succeeds", async () => {
    // Attack: racing one intercepted code from many connections to get several step-ups from it.
    const c = s.client();
    const address = await c.signUp("race");
    await c.enrollEmail(address);
    const id = await c.challenge();
    const mail = await c.sendEmail(id, address);
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        c.b.clone().post(c.origin, `/stepup/api/challenges/${id}/verify`, {
          factor: "email",
          code: mail.code,
        }),
      ),
    );
    const statuses = results.map((r) => r.status);
    expect(
      statuses.filter((st) => st === 200),
      statuses.join(","),
    ).toHaveLength(1);
    for (const r of results) if (r.status !== 200) expect([400, 404, 409], r.text).toContain(r.status);
  });
});

describe("Express demo: sends are limited and a failed delivery leaves no code valid", () => {
  const s = stack();

  it("a resend within 30 s is refused (429 rate_limited, Retry-After) and nothing is mailed", async () => {
    // Attack: mail bombing a victim's inbox (or running up an SMS bill) by hammering "Send code".
    const c = s.client();
    const address = await c.signUp("resend");
    await c.enrollEmail(address);
    const id = await c.challenge();
    await c.sendEmail(id, address);
    const before = s.channels.smtp.mailTo(address).length;
    const again = await c.start(id, "email");
    const body = problem(again, 429, "rate_limited");
    const retryAfter = Number(again.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(body.retryAfter).toBe(retryAfter);
    await new Promise((r) => setTimeout(r, 200));
    expect(s.channels.smtp.mailTo(address)).toHaveLength(before);
  });

  it("the SMTP server refuses the mail: 503 delivery_failed, that mail's code never works, the next send's does", async () => {
    // Attack: a message that failed (maybe half-delivered, retried later by a relay) must not
    // leave a live code behind; the user is told, not shown a form for a code that never comes.
    const c = s.client();
    const address = await c.signUp("smtp-reject");
    await c.enrollEmail(address);
    const id = await c.challenge();
    s.channels.smtp.mode = "reject";
    let failed: Awaited<ReturnType<typeof c.start>>;
    try {
      failed = await c.start(id, "email");
    } finally {
      s.channels.smtp.mode = "accept";
    }
    problem(failed, 503, "delivery_failed");
    const lost = s.channels.smtp.rejected.find((m) => m.to === address && m.code !== "");
    expect(lost, "the server saw the refused message").toBeDefined();

    // Nothing was delivered: sending again at once is allowed, and it is a new code.
    const mail = await c.sendEmail(id, address);
    expect(mail.code).not.toBe(lost?.code);
    problem(await c.verify(id, "email", lost?.code ?? ""), 400, "invalid_code");
    expect((await c.verify(id, "email", mail.code)).status).toBe(200);
  });

  it("a mail server that never answers: 503 delivery_failed after sendTimeout (10 s), and the held mail's code never works", async () => {
    // Attack: a slow relay that delivers long after the user gave up: that late code must be dead.
    const c = s.client();
    const address = await c.signUp("smtp-hang");
    await c.enrollEmail(address);
    const id = await c.challenge();
    s.channels.smtp.mode = "hang";
    const started = Date.now();
    let failed: Awaited<ReturnType<typeof c.start>>;
    try {
      // The browser's own deadline (10 s) would race the demo's sendTimeout (10 s): wait longer.
      const slow = new Browser(20_000);
      for (const [k, v] of c.b.jar) slow.jar.set(k, v);
      failed = await slow.post(c.origin, `/stepup/api/challenges/${id}/start`, { factor: "email" });
    } finally {
      s.channels.smtp.mode = "accept";
    }
    problem(failed, 503, "delivery_failed");
    expect(Date.now() - started).toBeGreaterThanOrEqual(9_000);
    const held = s.channels.smtp.held.find((m) => m.to === address && withCode(m));
    expect(held?.code).toMatch(/^\d{6}$/);
    problem(await c.verify(id, "email", held?.code ?? ""), 400, "invalid_code");
    const mail = await c.sendEmail(id, address);
    expect((await c.verify(id, "email", mail.code)).status).toBe(200);
  }, 30_000);

  it("the SMS gateway answers 500: 503 delivery_failed, that text's code never works, the next send's does", async () => {
    // Attack: as for mail: a failed text (the provider may still deliver it) leaves no live code.
    const c = s.client();
    await c.signUp("sms-fail");
    const phone = uniquePhone();
    await c.enrollSms(phone);
    const id = await c.challenge();
    s.channels.sms.mode = "fail";
    let failed: Awaited<ReturnType<typeof c.start>>;
    try {
      failed = await c.start(id, "sms");
    } finally {
      s.channels.sms.mode = "ok";
    }
    problem(failed, 503, "delivery_failed");
    const lost = s.channels.sms.failed.find((m) => m.to === phone);
    expect(lost?.code).toMatch(/^\d{6}$/);
    const sms = await c.sendSms(id, phone);
    expect(sms.code).not.toBe(lost?.code);
    problem(await c.verify(id, "sms", lost?.code ?? ""), 400, "invalid_code");
    expect((await c.verify(id, "sms", sms.code)).status).toBe(200);
  });

  it("a number that is not E.164 is refused (400 invalid_input) before any webhook call", async () => {
    // Attack: SMS pumping and injection: junk, short codes and premium ranges must never reach the
    // gateway (each call costs money), whatever the shape of the input.
    const c = s.client();
    await c.signUp("bad-phone");
    const before = s.channels.sms.requests.length;
    for (const phone of [
      "555",
      "15551234567",
      "+1555123",
      "+0123456789",
      "+1555123456789012",
      "+1555123456a",
      "tel:+15551234567",
      "+15551234567;ext=1",
      "+1-555-CALL-NOW",
      `+1${"5".repeat(40)}`,
      "",
    ]) {
      const res = await c.b.post(c.origin, "/stepup/api/factors/sms", { phone });
      problem(res, 400, "invalid_input");
    }
    for (const body of [{}, { phone: 15551234567 }, { phone: ["+15551234567"] }, { phone: null }]) {
      problem(await c.b.post(c.origin, "/stepup/api/factors/sms", body), 400, "invalid_input");
    }
    await new Promise((r) => setTimeout(r, 200));
    expect(s.channels.sms.requests.length).toBe(before);
  });
});

describe("Express demo: codes stay out of the logs; delivery time", () => {
  const s = stack();

  it("with SMTP_URL and SMS_WEBHOOK_URL set, no code (sent, refused or failed) reaches the demo's stdout or stderr", async () => {
    // Attack: codes in application logs are readable by anyone with log access (and log shippers).
    const c = s.client();
    const address = await c.signUp("logs");
    await c.enrollEmail(address);
    // A second factor needs a fresh step-up first (as for TOTP): 401 with a challenge.
    const phone = uniquePhone();
    const gate = problem(
      await c.b.post(c.origin, "/stepup/api/factors/sms", { phone }),
      401,
      "step_up_required",
    );
    const gateId = String(gate.challengeId);
    const mail = await c.sendEmail(gateId, address);
    expect((await c.verify(gateId, "email", mail.code)).status).toBe(200);
    await c.enrollSms(phone);
    const id = await c.open();
    s.channels.sms.mode = "fail";
    try {
      problem(await c.start(id, "sms"), 503, "delivery_failed");
    } finally {
      s.channels.sms.mode = "ok";
    }
    const sms = await c.sendSms(id, phone);
    expect((await c.verify(id, "sms", sms.code)).status).toBe(200);
    const id2 = await c.open();
    s.channels.smtp.mode = "reject";
    try {
      problem(await c.start(id2, "email"), 503, "delivery_failed");
    } finally {
      s.channels.smtp.mode = "accept";
    }
    await new Promise((r) => setTimeout(r, 200));

    const codes = [
      ...s.channels.smtp.messages,
      ...s.channels.smtp.rejected,
      ...s.channels.smtp.held,
      ...s.channels.sms.messages,
      ...s.channels.sms.failed,
    ]
      .map((m) => m.code)
      .filter((code) => code !== "");
    expect(codes.length).toBeGreaterThanOrEqual(6);
    const output = s.demo.output();
    expect(output).toContain("stepup demo on");
    expect(output).toContain("email codes: sent through SMTP");
    expect(output).not.toMatch(/^\[(?:email|sms)\]/m);
    for (const code of codes) expect(output.includes(code), `code ${code} in the demo's output`).toBe(false);
    expect(output.includes(phone), "the phone number in the demo's output").toBe(false);
  });

  it("delivery time: start request to message in the capture server (email and SMS, p50 of 5)", async () => {
    // Not an attack: the figure tells whether the send path (rate limits, sealing, SMTP) is slow.
    const c = s.client();
    const address = await c.signUp("latency");
    await c.enrollEmail(address);
    const phone = uniquePhone();
    const gate = String(
      problem(await c.b.post(c.origin, "/stepup/api/factors/sms", { phone }), 401, "step_up_required")
        .challengeId,
    );
    const m = await c.sendEmail(gate, address);
    expect((await c.verify(gate, "email", m.code)).status).toBe(200);
    await c.enrollSms(phone);

    const emailMs: number[] = [];
    const smsMs: number[] = [];
    /** When the start request answered: it waits for the relay or gateway to accept the message. */
    const answeredMs: number[] = [];
    // Distinct challenges (one send of each kind each): a resend on one challenge waits 30 s.
    for (let i = 0; i < 5; i++) {
      const id = await c.open();
      const t0 = nowMs();
      const started = await c.start(id, "email");
      expect(started.status, started.text).toBe(200);
      answeredMs.push(nowMs() - t0);
      const mail = await s.channels.smtp.waitForMail(address, { match: withCode });
      emailMs.push(mail.receivedAtMs - t0);
      const t1 = nowMs();
      const texted = await c.start(id, "sms");
      expect(texted.status, texted.text).toBe(200);
      const sms = await s.channels.sms.waitForSms(phone);
      smsMs.push(sms.receivedAtMs - t1);
    }
    const fmt = (xs: number[]) => xs.map((x) => x.toFixed(1)).join(", ");
    // smtp-server holds its greeting 100 ms (early-talker check), as many real MTAs do.
    console.info(
      `email delivery p50 = ${median(emailMs).toFixed(1)} ms (${fmt(emailMs)}; start answered p50 ` +
        `${median(answeredMs).toFixed(1)} ms); sms delivery p50 = ${median(smsMs).toFixed(1)} ms (${fmt(smsMs)})`,
    );
    for (const x of [...emailMs, ...smsMs]) expect(x).toBeGreaterThan(0);
    expect(median(emailMs)).toBeLessThan(2_000);
    expect(median(smsMs)).toBeLessThan(2_000);
  });
});
