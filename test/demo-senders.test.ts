// The demos' code senders (examples/shared/src/senders.ts) on their own, against the real SMS
// webhook receiver: what SMTP_URL and SMS_WEBHOOK_URL switch, and how a failed delivery looks.
import { printEmail, printSms, sendersFromEnv, webhookSms } from "@stepup/example-shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type SmsReceiver, startSmsReceiver } from "./support/sms-receiver.js";

let receiver: SmsReceiver;
beforeAll(async () => {
  receiver = await startSmsReceiver();
});
afterAll(async () => {
  await receiver?.close();
});

describe("demo code senders", () => {
  it("console fallback: one line per message, so a newline in a message cannot forge a log line", async () => {
    // Attack: text with "\n[email] to=victim ..." would otherwise print a second, fake message line.
    const lines: string[] = [];
    await printEmail((l) => lines.push(l))({
      to: "a@x.test",
      subject: 'Code "1"',
      text: 'Your code is 123456\n[email] to=victim@x.test text="000000"',
      html: "<p>123456</p>",
    });
    await printSms((l) => lines.push(l))("+15551234567", "Code 654321\r\n[sms] to=+1 text=x");
    expect(lines).toHaveLength(2);
    for (const line of lines) expect(line).not.toMatch(/[\r\n]/);
    expect(lines[0]).toBe(
      '[email] to=a@x.test subject="Code \\"1\\"" text="Your code is 123456\\n[email] to=victim@x.test text=\\"000000\\""',
    );
    expect(lines[1]).toMatch(/^\[sms\] to=\+15551234567 text="Code 654321\\r\\n/);
  });

  it("webhook: POSTs {to, text} as JSON; a 500 is a failed send whose error holds neither number nor text", async () => {
    // Attack: a gateway error logged with the message would put the code in the server's logs.
    const send = webhookSms(receiver.url);
    await send("+15551230001", "Stepup demo code: 112233");
    expect(receiver.requests.at(-1)?.contentType).toMatch(/^application\/json/);
    expect(JSON.parse(receiver.requests.at(-1)?.body ?? "")).toEqual({
      to: "+15551230001",
      text: "Stepup demo code: 112233",
    });
    expect((await receiver.waitForSms("+15551230001")).code).toBe("112233");

    receiver.mode = "fail";
    try {
      const error = await send("+15551230002", "Stepup demo code: 445566").then(
        () => undefined,
        (e: unknown) => e as Error,
      );
      expect(error?.message).toMatch(/answered 500/);
      expect(error?.message).not.toMatch(/445566|15551230002/);
    } finally {
      receiver.mode = "ok";
    }
  });

  it("webhook: a gateway that never answers is a failed send after the timeout, not a stuck request", async () => {
    receiver.mode = "hang";
    try {
      const started = Date.now();
      await expect(webhookSms(receiver.url, 300)("+15551230003", "code 778899")).rejects.toThrow(/timed out/);
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      receiver.mode = "ok";
    }
  });

  it("env: SMTP_URL and SMS_WEBHOOK_URL set -> nothing printed; unset -> printed; a bad URL is refused by name", async () => {
    const printed: string[] = [];
    const configured = sendersFromEnv(
      { SMTP_URL: "smtp://user:pass@127.0.0.1:2525", SMS_WEBHOOK_URL: receiver.url },
      (l) => printed.push(l),
    );
    expect(configured.email).toMatchObject({
      smtp: "smtp://user:pass@127.0.0.1:2525",
      from: "Stepup demo <no-reply@stepup.test>",
    });
    await configured.sms.send("+15551230004", "code 121212");
    expect(printed).toEqual([]);
    expect(configured.notes.join("\n")).not.toMatch(/pass/);

    const fallback = sendersFromEnv({}, (l) => printed.push(l));
    const sendEmail = fallback.email.send;
    if (!sendEmail) throw new Error("expected the console email sender");
    await sendEmail({ to: "b@x.test", subject: "s", text: "code 343434", html: "" });
    await fallback.sms.send("+15551230005", "code 565656");
    expect(printed).toHaveLength(2);

    expect(() => sendersFromEnv({ SMTP_URL: "http://mail.example" })).toThrow(/SMTP_URL/);
    expect(() => sendersFromEnv({ SMS_WEBHOOK_URL: "not a url" })).toThrow(/SMS_WEBHOOK_URL/);
  });
});
