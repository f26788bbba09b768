// The device cookie and the devices API. Attacks: a device cookie readable by scripts or sent
// cross-site, one planted by a sibling subdomain (cookie tossing), a copy that keeps working after
// the next verification, a revoke that needs the very step-up a thief may not have, and another
// user's device revoked by id.
import { describe, expect, it } from "vitest";
import { browser, fakeClock, totpAt } from "../../test/browser-client.js";
import { testHttp } from "../../test/helpers.js";

const alice = { id: "alice", email: "alice@example.com" };
const bob = { id: "bob", email: "bob@example.com" };

async function remembered() {
  const clock = fakeClock();
  const http = testHttp({ clock });
  const admin = http.guard({ resource: "admin", action: "read" });
  const b = browser(http, {
    userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:131.0) Gecko/20100101 Firefox/131.0",
  });
  const secret = await b.enrollTotp(alice, clock);
  const verified = await b.stepUp(admin, alice, secret, clock, true);
  return { clock, http, admin, b, secret, verified };
}

describe("the device cookie", () => {
  it("is set after every successful verification: httpOnly, SameSite=Lax, Path=/, with a Max-Age", async () => {
    const { verified } = await remembered();
    const set = verified.headers.getSetCookie().find((c) => c.startsWith("stepup_device="));
    expect(set).toMatch(
      /^stepup_device=[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+$/,
    );
    const maxAge = Number(/Max-Age=(\d+)/.exec(String(set))?.[1]);
    expect(maxAge).toBeGreaterThanOrEqual(30 * 86_400); // trusted for the default 30 days (seen for 90)
  });

  it("over https it is __Host-stepup_device, Secure; the plain name is then ignored (a sibling subdomain cannot plant it)", async () => {
    const clock = fakeClock();
    const http = testHttp({ clock });
    const admin = http.guard({ resource: "admin", action: "read" });
    const profile = http.guard({ resource: "profile", action: "edit", allowTrustedDevice: true });
    const b = browser(http, { origin: "https://app.example" });
    const secret = await b.enrollTotp(alice, clock);
    const { headers } = await b.stepUp(admin, alice, secret, clock, true);
    const set = headers.getSetCookie().find((c) => c.includes("_device="));
    expect(set).toMatch(/^__Host-stepup_device=[^;]+; Path=\/; HttpOnly; SameSite=Lax; Max-Age=\d+; Secure$/);
    const value = String(b.device());
    const https = (cookie: string) =>
      new Request("https://app.example/profile", { headers: { accept: "application/json", cookie } });
    expect((await profile(https(`__Host-stepup_device=${value}`), { user: alice })).kind).toBe("pass");
    expect((await profile(https(`stepup_device=${value}`), { user: alice })).kind).toBe("step-up-required");
  });

  it("a copy taken before the next verification stops counting (the token rotates)", async () => {
    const { clock, http, b, secret, admin } = await remembered();
    const profile = http.guard({ resource: "profile", action: "edit", allowTrustedDevice: true });
    const copy = String(b.device());
    b.signOut();
    await b.stepUp(admin, alice, secret, clock, false);
    expect(b.device()).not.toBe(copy);
    const thief = browser(http);
    thief.jar.set("stepup_device", copy);
    expect((await thief.visit(profile, alice)).kind).toBe("step-up-required");
    b.signOut();
    expect((await b.visit(profile, alice)).kind).toBe("pass"); // still trusted: the box was ticked before
  });

  it("rememberDevice must be a boolean (400 invalid_input), and nothing is verified", async () => {
    const { clock, b, secret, admin } = await remembered();
    b.signOut();
    const outcome = await b.visit(admin, alice);
    if (outcome.kind !== "step-up-required") throw new Error(outcome.kind);
    const res = await b.api(alice, "POST", `challenges/${outcome.opened.challenge.id}/verify`, {
      factor: "totp",
      code: await totpAt(secret, clock),
      rememberDevice: "yes",
    });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: "invalid_input", field: "rememberDevice" });
    expect((await b.visit(admin, alice)).kind).toBe("step-up-required");
  });
});

describe("GET and DELETE {basePath}/api/devices", () => {
  it("lists trusted devices with a readable name, marks this browser, and revokes without a step-up", async () => {
    const { b } = await remembered();
    const listed = await b.api(alice, "GET", "devices");
    expect(listed.status).toBe(200);
    expect(listed.headers.get("cache-control")).toBe("no-store");
    const devices = listed.body.devices as Record<string, unknown>[];
    expect(devices).toHaveLength(1);
    expect(devices[0]).toMatchObject({ name: "Firefox on Linux", current: true });
    for (const key of ["createdAt", "lastUsedAt", "trustedUntil"])
      expect(Number.isNaN(Date.parse(String(devices[0]?.[key])))).toBe(false);
    b.signOut(); // no step-up session at all: revoking still works
    expect((await b.api(alice, "DELETE", `devices/${devices[0]?.id}`)).status).toBe(204);
    expect((await b.api(alice, "GET", "devices")).body.devices).toEqual([]);
  });

  it("another user's device id, or an unknown one, is 404 not_found and revokes nothing", async () => {
    const { b, http } = await remembered();
    const [device] = (await b.api(alice, "GET", "devices")).body.devices as { id: string }[];
    const mallory = browser(http);
    for (const id of [device?.id, "A".repeat(16), "not-an-id"]) {
      const res = await mallory.api(bob, "DELETE", `devices/${id}`);
      expect(res.status).toBe(404);
      expect(res.body.error).toBe("not_found");
    }
    expect((await b.api(alice, "GET", "devices")).body.devices).toHaveLength(1);
  });

  it("a cross-site DELETE is refused before anything is revoked", async () => {
    const { b, http } = await remembered();
    const [device] = (await b.api(alice, "GET", "devices")).body.devices as { id: string }[];
    const res = await http.handle(
      new Request(`http://localhost:3000/stepup/api/devices/${device?.id}`, {
        method: "DELETE",
        headers: { origin: "https://evil.example", accept: "application/json" },
      }),
      { user: alice },
    );
    expect(res.status).toBe(403);
    expect((await b.api(alice, "GET", "devices")).body.devices).toHaveLength(1);
  });
});
