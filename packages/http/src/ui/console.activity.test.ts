// The console's "Recent security activity". Attacks: markup smuggled in through a value the app
// reports (the client address often comes from a forwarded header anyone can set), and noise
// (challenges opened, log-only policy) crowding out what the user should notice.
import type { AuditEntry } from "@stepup/core";
import { describe, expect, it, vi } from "vitest";
import { browser, fakeClock, totpAt } from "../../test/browser-client.js";
import { testHttp } from "../../test/helpers.js";
import { activityWords, UNKNOWN_EVENT } from "./activity-words.js";

const alice = { id: "alice", email: "alice@example.com" };
const HOSTILE_IP = '"><img src=x onerror=alert(1)>';

async function consolePage(http: ReturnType<typeof testHttp>, ip: string) {
  const res = await http.handle(
    new Request("http://localhost:3000/stepup/console", { headers: { accept: "text/html" } }),
    { user: alice, ip },
  );
  return res.text();
}

const section = (page: string) =>
  /<section[^>]*aria-labelledby="activity-title">([\s\S]*?)<\/section>/.exec(page)?.[1] ?? "";

describe("console: recent security activity", () => {
  it("says what happened in words, newest first, with its time and address", async () => {
    const clock = fakeClock();
    const http = testHttp({ clock });
    const admin = http.guard({ resource: "admin", action: "read" });
    const b = browser(http, { ip: "203.0.113.7" });
    // Appends are asynchronous (and concurrent ones may land in either order): wait after each step.
    const logged = (type: string) =>
      vi.waitFor(async () =>
        expect((await http.engine.audit.list(alice.id)).map((e) => e.type)).toContain(type),
      );
    const secret = await b.enrollTotp(alice, clock);
    await logged("factor.enrolled");
    const outcome = await b.visit(admin, alice);
    if (outcome.kind !== "step-up-required") throw new Error(outcome.kind);
    const wrong = await b.api(alice, "POST", `challenges/${outcome.opened.challenge.id}/verify`, {
      factor: "totp",
      code: (await totpAt(secret, clock)) === "000000" ? "111111" : "000000",
    });
    expect(wrong.status).toBe(400);
    await logged("verification.failed");
    await b.stepUp(admin, alice, secret, clock);
    await logged("verification.succeeded");
    await http.engine.markCredentialChange(alice.id);
    await logged("credential.changed");

    const activity = section(await consolePage(http, "203.0.113.7"));
    expect(activity).toContain("Recent security activity");
    const order = [
      "Password changed: every step-up ended",
      "Verified with a second factor: Authenticator app",
      "Wrong code entered",
      "Authenticator app added",
    ].map((words) => activity.indexOf(words));
    expect(order.every((at) => at >= 0)).toBe(true);
    expect([...order].sort((x, y) => x - y)).toEqual(order);
    expect(activity).toContain("Every device forgotten");
    expect(activity).toContain("Every step-up ended");
    expect(activity).toMatch(/<time datetime="2026-01-05T12:0\d:\d\d\.\d{3}Z">2026-01-05 12:0\d UTC<\/time>/);
    expect(activity).toContain("<dt>From</dt><dd>203.0.113.7</dd>");
    // Challenges opened and enrollments started are noise: not listed.
    expect(activity).not.toContain(UNKNOWN_EVENT);
    expect(activity.match(/<li>/g)).toHaveLength(6);
  });

  it("escapes a hostile address (a forged forwarded header) instead of rendering it", async () => {
    const clock = fakeClock();
    const http = testHttp({ clock });
    const admin = http.guard({ resource: "admin", action: "read" });
    const b = browser(http, { ip: HOSTILE_IP });
    const secret = await b.enrollTotp(alice, clock);
    await b.stepUp(admin, alice, secret, clock);
    let page = "";
    await vi.waitFor(async () => {
      page = await consolePage(http, HOSTILE_IP);
      expect(section(page)).toContain("Verified with a second factor");
    });
    expect(page).not.toContain("<img src=x");
    expect(section(page)).toContain("&quot;&gt;&lt;img src=x onerror=alert(1)&gt;");
  });

  it("shows at most 10 entries", async () => {
    const clock = fakeClock();
    const http = testHttp({ clock });
    for (let i = 0; i < 12; i++) await http.engine.devices.revokeAll(alice.id);
    await vi.waitFor(async () => {
      expect(await http.engine.audit.list(alice.id)).toHaveLength(12);
    });
    expect(section(await consolePage(http, "203.0.113.7")).match(/<li>/g)).toHaveLength(10);
  });
});

describe("activityWords", () => {
  const entry = (type: string, extra: Record<string, unknown> = {}): AuditEntry =>
    ({
      id: "e1",
      type,
      severity: "low",
      at: "2026-01-05T12:00:00.000Z",
      userId: "alice",
      seq: 1,
      prev: "",
      mac: "m",
      ...extra,
    }) as AuditEntry;

  it("names the factor by its title, and has words for the common events", () => {
    expect(activityWords(entry("signin.completed", { factor: "totp" }), "Authenticator app")).toBe(
      "Signed in with a second factor: Authenticator app",
    );
    expect(activityWords(entry("recovery.used"), undefined)).toBe("Recovery code used");
    expect(
      activityWords(entry("verification.failed", { metadata: { reason: "CHALLENGE_EXHAUSTED" } }), undefined),
    ).toBe("Too many wrong codes: verification locked");
    expect(activityWords(entry("device.trusted"), undefined)).toBe("Device remembered");
    expect(activityWords(entry("factor.enrolled"), undefined)).toBe("Method added");
  });

  it("hides the noisy types and calls an unknown one a generic security event", () => {
    for (const noisy of ["challenge.opened", "token.issued", "track"])
      expect(activityWords(entry(noisy), undefined)).toBeNull();
    expect(activityWords(entry("policy.decision", { metadata: { mode: "log-only" } }), undefined)).toBeNull();
    expect(
      activityWords(entry("policy.decision", { metadata: { decision: "REVIEW" } }), undefined),
    ).not.toBeNull();
    expect(activityWords(entry("something.new"), undefined)).toBe(UNKNOWN_EVENT);
    expect(activityWords(entry("toString"), undefined)).toBe(UNKNOWN_EVENT);
  });
});
