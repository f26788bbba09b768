// Driving the email and SMS factors of a demo running as a process (Express or Next), with the
// real capture servers behind SMTP_URL and SMS_WEBHOOK_URL.
import { expect } from "vitest";
import { PASSWORD, uniqueEmail } from "./demo.js";
import type { Browser } from "./process.js";
import { type CapturedSms, type SmsReceiver, startSmsReceiver } from "./sms-receiver.js";
import { type CapturedMail, type SmtpCapture, startSmtpCapture } from "./smtp.js";

/** The capture servers a demo process sends its codes to. */
export interface Channels {
  smtp: SmtpCapture;
  sms: SmsReceiver;
  /** The demo's environment for them. */
  env: { SMTP_URL: string; SMS_WEBHOOK_URL: string };
  close(): Promise<void>;
}

export async function startChannels(): Promise<Channels> {
  const smtp = await startSmtpCapture();
  const sms = await startSmsReceiver();
  return {
    smtp,
    sms,
    env: { SMTP_URL: smtp.url, SMS_WEBHOOK_URL: sms.url },
    close: async () => {
      await Promise.all([smtp.close(), sms.close()]);
    },
  };
}

/** A mail carrying a code (not a security notice). */
export const withCode = (m: CapturedMail) => m.code !== "";

/** A fresh E.164 number in the +1 555 range (each test its own: sends are limited per number). */
export const uniquePhone = () => `+1555${String(Math.floor(Math.random() * 1e7)).padStart(7, "0")}`;

/** Sub-millisecond wall clock, comparable with the capture servers' `receivedAtMs`. */
export const nowMs = () => performance.timeOrigin + performance.now();

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Asserts a problem+json answer with `status` and `error`; returns its body. */
export function problem(
  res: { status: number; headers: Headers; json: Record<string, unknown>; text: string },
  status: number,
  error: string,
): Record<string, unknown> {
  expect(res.headers.get("content-type") ?? "", `${res.status} ${res.text}`).toMatch(
    /^application\/problem\+json/,
  );
  expect({ status: res.status, error: res.json.error }, res.text).toEqual({ status, error });
  return res.json;
}

/** Drives one demo origin's code factors for one browser. */
export class CodeClient {
  constructor(
    readonly b: Browser,
    readonly origin: string,
    readonly channels: Channels,
  ) {}

  /** Signs up a new user; returns its email (lower-case, @example.com). */
  async signUp(tag = "codes"): Promise<string> {
    const email = uniqueEmail(tag);
    const res = await this.b.post(this.origin, "/signup", { email, password: PASSWORD });
    expect(res.status, res.text).toBe(201);
    return email;
  }

  /** Starts an email enrollment (the signed-in user's address) and returns the mail it sent. */
  async startEmail(address: string): Promise<{ factorId: string; mail: CapturedMail }> {
    const res = await this.b.post(this.origin, "/stepup/api/factors/email", {});
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({
      factorId: expect.any(String),
      destination: `${address[0]}***@example.com`,
      expiresAt: expect.any(String),
    });
    const mail = await this.channels.smtp.waitForMail(address, { match: withCode });
    return { factorId: String(res.json.factorId), mail };
  }

  /** Enrolls email with the code the real SMTP server received; returns the factor id. */
  async enrollEmail(address: string): Promise<string> {
    const { factorId, mail } = await this.startEmail(address);
    const confirmed = await this.b.post(this.origin, `/stepup/api/factors/email/${factorId}/confirm`, {
      code: mail.code,
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    return factorId;
  }

  /** Enrolls SMS with the code the real webhook received; returns the factor id. */
  async enrollSms(phone: string): Promise<string> {
    const res = await this.b.post(this.origin, "/stepup/api/factors/sms", { phone });
    expect(res.status, res.text).toBe(201);
    expect(res.json).toMatchObject({
      factorId: expect.any(String),
      destination: expect.stringMatching(/^\+1\*+\d\d$/),
    });
    const sms = await this.channels.sms.waitForSms(phone);
    const factorId = String(res.json.factorId);
    const confirmed = await this.b.post(this.origin, `/stepup/api/factors/sms/${factorId}/confirm`, {
      code: sms.code,
    });
    expect(confirmed.status, confirmed.text).toBe(200);
    return factorId;
  }

  /** A guarded JSON route's challenge (401 step_up_required); returns its id. */
  async challenge(path = "/api/export"): Promise<string> {
    const res = await this.b.get(this.origin, path);
    const body = problem(res, 401, "step_up_required");
    expect(body.challengeId).toMatch(/^[A-Za-z0-9_-]{16,}$/);
    return String(body.challengeId);
  }

  /**
   * Opens a challenge through the JSON API (even while the session is fresh: the demo's rules are
   * sudo mode, so after one step-up the guarded routes open without a new challenge).
   */
  async open(resource = "data", action = "export"): Promise<string> {
    const res = await this.b.post(this.origin, "/stepup/api/challenges", { resource, action });
    expect(res.status, res.text).toBe(201);
    return String(res.json.challengeId);
  }

  start(challengeId: string, factor: "email" | "sms", factorId?: string) {
    return this.b.post(this.origin, `/stepup/api/challenges/${challengeId}/start`, {
      factor,
      ...(factorId ? { factorId } : {}),
    });
  }

  verify(challengeId: string, factor: "email" | "sms", code: string, factorId?: string) {
    return this.b.post(this.origin, `/stepup/api/challenges/${challengeId}/verify`, {
      factor,
      code,
      ...(factorId ? { factorId } : {}),
    });
  }

  /** Starts a send on a challenge and returns the mail that arrived for it. */
  async sendEmail(challengeId: string, address: string): Promise<CapturedMail> {
    const res = await this.start(challengeId, "email");
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({
      sent: true,
      destination: expect.stringMatching(/\*\*\*@example\.com$/),
    });
    return this.channels.smtp.waitForMail(address, { match: withCode });
  }

  /** Starts a send on a challenge and returns the text message that arrived for it. */
  async sendSms(challengeId: string, phone: string): Promise<CapturedSms> {
    const res = await this.start(challengeId, "sms");
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ sent: true });
    return this.channels.sms.waitForSms(phone);
  }
}

/** A 6-digit code that is not `code`. */
export const otherCode = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, "0");
