// Email and SMS one-time codes through the built Next.js demo (`next start`), with SMTP_URL at a
// real SMTP server and SMS_WEBHOOK_URL at a real HTTP receiver. Only the essential flow: the
// Express demo's tests (email-sms.demo.test.ts) cover the rules; this shows the Next wiring
// sends through the same variables and keeps codes out of its output.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type Channels,
  CodeClient,
  otherCode,
  problem,
  startChannels,
  uniquePhone,
} from "./support/codes.js";
import { PASSWORD } from "./support/demo.js";
import { type NextDemo, startNextDemo } from "./support/next.js";
import { Browser } from "./support/process.js";

let channels: Channels;
let demo: NextDemo;

beforeAll(async () => {
  channels = await startChannels();
  demo = await startNextDemo(channels.env);
}, 60_000);
afterAll(async () => {
  await demo?.stop();
  await channels?.close();
});

describe("Next demo: email and SMS codes (real SMTP server, real webhook)", () => {
  it("email then SMS: each proved by its own code, the second added only after a step-up, each code stepping up one challenge once", async () => {
    // Attack: enrolling an address or number you do not hold, adding a factor to a hijacked
    // session without a step-up, or opening a guarded route without the code.
    const c = new CodeClient(new Browser(), demo.origin, channels);
    const address = await c.signUp("next-codes");
    await c.enrollEmail(address);

    const id = await c.challenge("/api/export");
    const mail = await c.sendEmail(id, address);
    expect(mail.fromHeader).toBe('"Stepup demo" <no-reply@stepup.test>');
    expect(mail.text).toContain("Stepup demo (Next.js)");
    expect(mail.text).toContain(mail.code);
    problem(await c.verify(id, "email", otherCode(mail.code)), 400, "invalid_code");
    expect((await c.verify(id, "email", mail.code)).status).toBe(200);
    expect((await c.b.get(c.origin, "/api/export")).status).toBe(200);
    problem(await c.verify(id, "email", mail.code), 404, "challenge_not_found");

    // A second browser of the same user has no step-up: adding a phone there needs one first.
    const other = new CodeClient(new Browser(), demo.origin, channels);
    const login = await other.b.post(other.origin, "/login", { email: address, password: PASSWORD });
    expect(login.status, login.text).toBe(200);
    const phone = uniquePhone();
    const webhookCalls = channels.sms.requests.length;
    const gate = problem(
      await other.b.post(other.origin, "/stepup/api/factors/sms", { phone }),
      401,
      "step_up_required",
    );
    expect(channels.sms.requests).toHaveLength(webhookCalls);
    const gateMail = await other.sendEmail(String(gate.challengeId), address);
    expect((await other.verify(String(gate.challengeId), "email", gateMail.code)).status).toBe(200);
    await other.enrollSms(phone);

    const next = await other.open("account", "delete");
    const sms = await other.sendSms(next, phone);
    expect(sms.text).not.toMatch(/\n/);
    expect(sms.text).toContain("Stepup demo (Next.js)");
    expect((await other.verify(next, "sms", sms.code)).status).toBe(200);
  });

  it("with SMTP_URL and SMS_WEBHOOK_URL set, no code reaches the Next demo's output", async () => {
    // Attack: codes in server logs, readable by anyone with log access.
    const c = new CodeClient(new Browser(), demo.origin, channels);
    const address = await c.signUp("next-logs");
    await c.enrollEmail(address);
    const id = await c.open();
    channels.smtp.mode = "reject";
    try {
      problem(await c.start(id, "email"), 503, "delivery_failed");
    } finally {
      channels.smtp.mode = "accept";
    }
    await c.sendEmail(id, address);
    await new Promise((r) => setTimeout(r, 200));
    const codes = [...channels.smtp.messages, ...channels.smtp.rejected, ...channels.sms.messages]
      .map((m) => m.code)
      .filter((code) => code !== "");
    expect(codes.length).toBeGreaterThanOrEqual(5);
    const output = demo.output();
    expect(output).toContain("email codes: sent through SMTP");
    expect(output).not.toMatch(/^\[(?:email|sms)\]/m);
    for (const code of codes) expect(output.includes(code), `code ${code} in the demo's output`).toBe(false);
  });
});
