// The admin API and page through the Express demo running as a process (examples/express/dist/
// server.js) with ADMIN_EMAILS set and SMTP_URL at a real SMTP server. Attacks: a signed-in user who
// is not an administrator reading or resetting someone; an administrator's session used without the
// administrator's own second factor; a forged cross-site reset; a reset that leaves the user a
// factor, or that the user never hears of; a bad ADMIN_EMAILS silently giving nobody (or everybody)
// admin rights.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Channels, problem, startChannels } from "./support/codes.js";
import { PASSWORD, uniqueEmail } from "./support/demo.js";
import { navigate } from "./support/navigate.js";
import { type Account, addTotp, challengeOf, stepUpAt, verify } from "./support/policy.js";
import { Browser, type DemoProcess, spawnDemo } from "./support/process.js";

let channels: Channels;
let demo: DemoProcess;
const adminEmail = uniqueEmail("boss");

beforeAll(async () => {
  channels = await startChannels();
  // Mixed case and spaces: the list is case-insensitive and trimmed.
  demo = await spawnDemo({ ...channels.env, ADMIN_EMAILS: ` ${adminEmail.toUpperCase()} , ops@example.com` });
}, 30_000);
afterAll(async () => {
  await demo?.stop();
  await channels?.close();
});

/** Signs up a new user in a browser of their own, with TOTP: their id (stepup's user id) too. */
async function member(tag: string): Promise<{ b: Browser; account: Account; id: string }> {
  const b = new Browser();
  const email = tag === "boss" ? adminEmail : uniqueEmail(tag);
  const res = await b.post(demo.origin, "/signup", { email, password: PASSWORD });
  expect(res.status, res.text).toBe(201);
  const account = await addTotp(b, demo.origin, { email, password: PASSWORD, recoveryCodes: [] });
  return { b, account, id: String(res.json.id) };
}

describe("Express demo: the admin API and /admin/users (ADMIN_EMAILS, real SMTP)", () => {
  it("a non-administrator gets 403 from the page and the API, and learns nothing about the target", async () => {
    const target = await member("target");
    const nosy = await member("nosy");
    const page = await navigate(nosy.b, demo.origin, "/admin/users");
    expect(page.status).toBe(403);
    expect(page.text).toContain("Only an administrator");
    for (const path of [`/stepup/admin/users/${target.id}`, "/stepup/admin/users/nobody"]) {
      const res = await nosy.b.get(demo.origin, path);
      const body = problem(res, 403, "forbidden");
      expect(Object.keys(body).sort()).toEqual(["detail", "error", "status", "title", "type"]);
    }
    problem(await nosy.b.post(demo.origin, `/stepup/admin/users/${target.id}/reset`), 403, "forbidden");
    expect((await target.b.get(demo.origin, "/stepup/api/factors")).json.factors).toHaveLength(1);
  });

  it("an administrator steps up (401 first), looks a user up by email and resets them: factors gone, the user emailed, the audit says who", async () => {
    const target = await member("target");
    // The target has a step-up and a remembered device too.
    await stepUpAt(target.b, demo.origin, "/admin", target.account, { rememberDevice: true });
    const boss = await member("boss");

    // The page finds the user by email and hands the page their id; it shows no status itself.
    const page = await navigate(
      boss.b,
      demo.origin,
      `/admin/users?user=${encodeURIComponent(target.account.email)}`,
    );
    expect(page.status).toBe(200);
    expect(page.text).toContain(`data-user-id="${target.id}"`);
    expect(page.text).toContain("/stepup/assets/stepup.js");
    expect((await navigate(boss.b, demo.origin, "/admin/users?user=nobody@example.com")).text).toContain(
      "No user with that email or id",
    );

    // Not fresh: the API answers like any guarded route (what stepUpFetch's dialog handles).
    const gate = challengeOf(await boss.b.get(demo.origin, `/stepup/admin/users/${target.id}`), "admin");
    expect(gate).toMatchObject({ resource: "stepup", action: "admin", maxAge: 300 });
    await verify(boss.b, demo.origin, gate, boss.account);
    const before = await boss.b.get(demo.origin, `/stepup/admin/users/${target.id}`);
    expect(before.status, before.text).toBe(200);
    expect(before.json).toMatchObject({ enabled: true, factorCount: 1, recoveryCodesRemaining: 10 });
    expect(before.json.devices).toHaveLength(1);
    expect(before.text).not.toContain(String(target.account.secret));

    // A forged cross-site reset riding the administrator's cookies changes nothing.
    const forged = await boss.b.request(
      demo.origin,
      "POST",
      `/stepup/admin/users/${target.id}/reset`,
      {},
      {
        origin: "https://evil.example",
      },
    );
    problem(forged, 403, "origin_mismatch");

    const reset = await boss.b.post(demo.origin, `/stepup/admin/users/${target.id}/reset`);
    expect(reset.status, reset.text).toBe(200);
    expect(reset.json).toMatchObject({
      enabled: false,
      factorCount: 0,
      recoveryCodesRemaining: 0,
      devices: [],
    });
    expect((await target.b.get(demo.origin, "/stepup/api/factors")).json).toEqual({
      factors: [],
      recoveryCodesRemaining: 0,
    });
    const mail = await channels.smtp.waitForMail(target.account.email, {
      match: (m) => m.subject.startsWith("Security notice") && m.text.includes("An administrator"),
    });
    expect(mail.text).toContain("An administrator reset two-step verification on your Stepup demo account");
    expect(mail.html).toContain("An administrator reset two-step verification");

    const audit = await boss.b.get(demo.origin, `/stepup/admin/users/${target.id}/audit?limit=200`);
    expect(audit.status, audit.text).toBe(200);
    const events = audit.json.events as { type: string; metadata?: Record<string, unknown> }[];
    expect(events.find((e) => e.type === "user.reset")?.metadata?.by).toBe(boss.id);
    expect(audit.json.chain).toMatchObject({ ok: true });
  });

  it("a bad ADMIN_EMAILS stops the demo at start-up, naming the variable", async () => {
    await expect(spawnDemo({ ADMIN_EMAILS: "boss@example.com, not-an-address" })).rejects.toThrow(
      /ADMIN_EMAILS must be email addresses/,
    );
  });
});
