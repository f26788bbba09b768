// GET api/audit: the signed-in user's own activity. Attacks: reading another user's log (by being
// signed in as someone else, there is no user parameter to tamper with), learning the chain
// internals an attacker with store access would need to forge entries, and an oversized or
// malformed `limit`.
import { describe, expect, it, vi } from "vitest";
import { browser, fakeClock } from "../../test/browser-client.js";
import { testHttp } from "../../test/helpers.js";

const alice = { id: "alice", email: "alice@example.com" };
const bob = { id: "bob", email: "bob@example.com" };

type Listed = { events: Record<string, unknown>[] };

async function twoUsers() {
  const clock = fakeClock();
  const http = testHttp({ clock });
  const admin = http.guard({ resource: "admin", action: "read" });
  const a = browser(http, { ip: "203.0.113.7" });
  const b = browser(http, { ip: "198.51.100.9" });
  const list = async (user: typeof alice, query = "") => {
    const res = await a.api(user, "GET", `audit${query}`);
    return { status: res.status, body: res.body as unknown as Listed & Record<string, unknown> };
  };
  const secret = await a.enrollTotp(alice, clock);
  // The engine appends asynchronously (concurrent appends may land in either order): wait between steps.
  await vi.waitFor(async () =>
    expect((await list(alice)).body.events.map((e) => e.type)).toContain("factor.enrolled"),
  );
  await a.stepUp(admin, alice, secret, clock);
  await b.enrollTotp(bob, clock);
  await vi.waitFor(async () => {
    expect((await list(alice)).body.events.map((e) => e.type)).toContain("verification.succeeded");
    expect((await list(bob)).body.events.map((e) => e.type)).toContain("factor.enrolled");
  });
  return { http, a, list };
}

describe("GET api/audit", () => {
  it("lists the signed-in user's own events, newest first: alice never sees bob's", async () => {
    const { list } = await twoUsers();
    const { status, body } = await list(alice);
    expect(status).toBe(200);
    const types = body.events.map((e) => e.type);
    expect(types.indexOf("verification.succeeded")).toBeLessThan(types.indexOf("factor.enrolled"));
    const ats = body.events.map((e) => String(e.at));
    expect([...ats].sort().reverse()).toEqual(ats);
    expect(body.events.some((e) => e.ip === "198.51.100.9")).toBe(false);
    expect(body.events.some((e) => e.ip === "203.0.113.7")).toBe(true);
    const bobs = (await list(bob)).body.events;
    expect(bobs.length).toBeGreaterThan(0);
    expect(bobs.map((e) => e.id).filter((id) => body.events.some((e) => e.id === id))).toEqual([]);
  });

  it("never exposes the chain (seq, prev, mac) nor userId or factorId", async () => {
    const { list } = await twoUsers();
    const { body } = await list(alice);
    const allowed = [
      "id",
      "type",
      "at",
      "severity",
      "tag",
      "status",
      "ip",
      "resource",
      "action",
      "factor",
      "metadata",
    ];
    for (const event of body.events) {
      for (const key of Object.keys(event)) expect(allowed).toContain(key);
      expect(event).not.toHaveProperty("mac");
      expect(event).not.toHaveProperty("prev");
      expect(event).not.toHaveProperty("seq");
      expect(event).not.toHaveProperty("userId");
    }
  });

  it("?limit=1..50 caps the list; anything else is 400 invalid_input", async () => {
    const { list } = await twoUsers();
    const one = await list(alice, "?limit=1");
    expect(one.status).toBe(200);
    expect(one.body.events).toHaveLength(1);
    expect(one.body.events[0]?.type).toBe("verification.succeeded");
    for (const bad of ["0", "51", "1000000", "-1", "1.5", "abc", "", "01", "1e1"]) {
      const res = await list(alice, `?limit=${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body).toMatchObject({ error: "invalid_input", field: "limit" });
    }
  });

  it("needs a signed-in user (401), and only GET (405)", async () => {
    const { http, a } = await twoUsers();
    const anonymous = await http.handle(
      new Request("http://localhost:3000/stepup/api/audit", { headers: { accept: "application/json" } }),
      { user: null },
    );
    expect(anonymous.status).toBe(401);
    expect((await a.api(alice, "DELETE", "audit")).status).toBe(405);
  });
});
