// "Remember this device" on the pages, without JavaScript. Attacks: a box that trusts the browser
// when it was not ticked (a forged field value), a trust the user cannot see or take back (a
// shared computer, a lost laptop), and a revoke form another site can post.
import { describe, expect, it } from "vitest";
import { fakeClock, totpAt } from "../../test/browser-client.js";
import { testHttp } from "../../test/helpers.js";
import { csrfOf, formsOf, pageClient } from "../../test/page-client.js";

const alice = { id: "alice", email: "alice@example.com" };

async function setup(overrides: Parameters<typeof testHttp>[0] = {}) {
  const clock = fakeClock();
  const http = testHttp({ clock, ...overrides });
  const started = (await http.engine.factors.enrollStart(alice, "totp", {}, undefined)) as Record<
    string,
    string
  >;
  const secret = String(started.secret);
  await http.engine.factors.enrollConfirm(
    alice,
    "totp",
    started.factorId,
    { code: await totpAt(secret, clock) },
    undefined,
  );
  clock.advance(30_000);
  return { clock, http, secret, page: pageClient(http, alice) };
}

describe("the challenge page's Remember this device", () => {
  it("each code form carries the box (N days from the policy); none when trusted devices are off", async () => {
    const { page } = await setup();
    const { page: shown } = await page.guarded();
    const codeForms = formsOf(shown.html).filter((f) => f.includes('name="code"'));
    expect(codeForms.length).toBeGreaterThan(0);
    for (const form of codeForms) {
      expect(form).toMatch(/<input type="checkbox" id="[^"]+" name="rememberDevice" value="1">/);
      expect(form).toContain("Remember this device for 30 days");
    }
    const off = await setup({ policy: { trustedDevices: false } });
    const { page: plain } = await off.page.guarded();
    expect(plain.html).not.toContain("rememberDevice");
    const week = await setup({ policy: { trustedDevices: { days: 7 } } });
    expect((await week.page.guarded()).page.html).toContain("Remember this device for 7 days");
  });

  it("ticked: the browser is trusted (listed in the console as This device); a wrong code keeps the box ticked", async () => {
    const { clock, secret, page } = await setup();
    const { id, page: shown } = await page.guarded();
    const csrf = csrfOf(shown.html);
    const wrong = (await totpAt(secret, clock)) === "000000" ? "111111" : "000000";
    const retry = await page.post(`/stepup/challenge/${id}`, {
      csrf,
      factor: "totp",
      code: wrong,
      rememberDevice: "1",
    });
    expect(retry.status).toBe(400);
    expect(retry.html).toMatch(/name="rememberDevice" value="1" checked>/);
    const done = await page.post(`/stepup/challenge/${id}`, {
      csrf,
      factor: "totp",
      code: await totpAt(secret, clock),
      rememberDevice: "1",
    });
    expect(done.status).toBe(303);
    const console = await page.get("/stepup/console");
    expect(console.html).toContain("Trusted devices");
    expect(console.html).toContain("This device");
  });

  it("not ticked, or any value but 1: the browser is only seen, not trusted", async () => {
    for (const extra of [{}, { rememberDevice: "true" }, { rememberDevice: "on" }] as Record<
      string,
      string
    >[]) {
      const { clock, secret, page, http } = await setup();
      const { id, page: shown } = await page.guarded();
      const res = await page.post(`/stepup/challenge/${id}`, {
        csrf: csrfOf(shown.html),
        factor: "totp",
        code: await totpAt(secret, clock),
        ...extra,
      });
      expect(res.status).toBe(303);
      expect(await http.engine.devices.list(alice.id)).toEqual([]);
    }
  });
});

describe("the console's Trusted devices", () => {
  async function trusted() {
    const s = await setup();
    const { id, page: shown } = await s.page.guarded();
    await s.page.post(`/stepup/challenge/${id}`, {
      csrf: csrfOf(shown.html),
      factor: "totp",
      code: await totpAt(s.secret, s.clock),
      rememberDevice: "1",
    });
    s.clock.advance(30_000); // TOTP takes each time step once
    return s;
  }

  it("Revoke (a csrf form, no step-up) forgets the device at once", async () => {
    const { page, http } = await trusted();
    const [device] = await http.engine.devices.list(alice.id);
    const console = await page.get("/stepup/console");
    const action = `/stepup/console/devices/${device?.id}/revoke`;
    expect(formsOf(console.html).some((f) => f.includes(`action="${action}"`))).toBe(true);
    const forged = await page.post(action, { csrf: "forged" });
    expect(forged.status).toBe(403);
    expect(await http.engine.devices.list(alice.id)).toHaveLength(1);
    const done = await page.post(action, { csrf: csrfOf(console.html) });
    expect(done.status).toBe(200);
    expect(done.html).toContain("Device forgotten.");
    expect(await http.engine.devices.list(alice.id)).toEqual([]);
    // Twice (another tab): says so, revokes nothing else.
    const again = await page.post(action, { csrf: csrfOf(console.html) });
    expect(again.status).toBe(404);
    expect(again.html).toContain("no longer trusted");
  });

  it("Forget all forgets every device", async () => {
    const { page, http, clock, secret } = await trusted();
    // A second remembered browser.
    const other = pageClient(http, alice);
    const { id, page: shown } = await other.guarded();
    await other.post(`/stepup/challenge/${id}`, {
      csrf: csrfOf(shown.html),
      factor: "totp",
      code: await totpAt(secret, clock),
      rememberDevice: "1",
    });
    expect(await http.engine.devices.list(alice.id)).toHaveLength(2);
    const console = await page.get("/stepup/console");
    expect(console.html).toContain('action="/stepup/console/devices/revoke-all"');
    const done = await page.post("/stepup/console/devices/revoke-all", { csrf: csrfOf(console.html) });
    expect(done.html).toContain("Every device was forgotten.");
    expect(await http.engine.devices.list(alice.id)).toEqual([]);
  });
});
