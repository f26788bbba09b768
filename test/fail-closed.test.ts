// Attack: knocking the store over (or waiting for an outage) so that "cannot read the step-up
// record" is mistaken for "nothing to check": the guard must fail closed (503, handler never runs),
// leak nothing about the driver, and recover on its own when Redis returns.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import {
  currentCode,
  type Demo,
  enrollTotp,
  expectNoLeak,
  expectPageNonce,
  expectProblem,
  openChallenge,
  signUp,
  startDemo,
  stepUp,
  until,
  verify,
} from "./support/demo.js";
import { privateRedis } from "./support/redis.js";

let redis: Awaited<ReturnType<typeof privateRedis>>;
let demo: Demo;

beforeAll(async () => {
  redis = await privateRedis();
  demo = await startDemo({ store: redis.store });
});

afterAll(async () => {
  await demo?.close();
  await redis?.close();
});

afterEach(() => {
  vi.restoreAllMocks();
});

describe("fail closed when Redis is down", () => {
  it("a stepped-up user gets 503 (never the handler) while Redis is down, and service resumes without a restart", async () => {
    const agent = demo.agent();
    await signUp(agent);
    const { secret } = await enrollTotp(agent);
    await stepUp(agent, secret);
    expect((await agent.get("/api/export")).status).toBe(200);
    const pending = await openChallenge(agent); // a real challenge id for the verify call below

    const logged = vi.spyOn(console, "error").mockImplementation(() => {});
    await redis.server.stop();
    await until(async () => (redis.client.status === "ready" ? undefined : true), 5_000, 20);

    const bodies: string[] = [];
    const exported = await agent.get("/api/export").set("accept", "application/json");
    bodies.push(exported.text);
    expectProblem(exported, 503, "store_unavailable");
    expect(exported.text).not.toContain("exportedAt");

    const transfer = await agent.post("/transfer").send({ amount: 1, to: "bob" });
    bodies.push(transfer.text);
    expectProblem(transfer, 503, "store_unavailable");
    expect(transfer.text).not.toContain("transferred");

    const deleted = await agent
      .post("/account/delete")
      .type("form")
      .set("accept", "text/html")
      .send({ confirm: "yes" });
    bodies.push(deleted.text);
    expect(deleted.status).toBe(503);
    expect(deleted.headers["content-type"]).toMatch(/^text\/html/);
    expect(deleted.text).not.toContain("deleted");

    const page = await agent.get("/admin").set("accept", "text/html");
    bodies.push(page.text);
    expect(page.status).toBe(503);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.headers["cache-control"]).toBe("no-store");
    expect(page.text).not.toContain("Admin panel");
    expect(page.text).toContain("Temporarily unavailable");

    const verified = await verify(agent, pending, await currentCode(secret));
    bodies.push(verified.text);
    expectProblem(verified, 503, "store_unavailable");

    const status = await agent.get("/stepup/api/status?resource=data&action=export");
    bodies.push(status.text);
    expectProblem(status, 503, "store_unavailable");

    const challengePage = await agent.get(`/stepup/challenge/${pending}`).set("accept", "text/html");
    bodies.push(challengePage.text);
    expect(challengePage.status).toBe(503);

    expect(challengePage.text).toContain("Temporarily unavailable");
    expectPageNonce(challengePage);

    for (const body of bodies) expectNoLeak(body, [secret]);
    // The guard's 503 page must be styled by its own CSP like every other page.
    for (const [name, res] of [
      ["GET /admin", page],
      ["POST /account/delete", deleted],
    ] as const) {
      const csp = /style-src 'nonce-([^']+)'/.exec(String(res.headers["content-security-policy"]))?.[1];
      const used = /<style nonce="([^"]*)"/.exec(res.text)?.[1];
      expect.soft(used, `${name}: the 503 page's <style> nonce must be the CSP's`).toBe(csp);
    }
    // The cause goes to the server log, not to the client.
    expect(logged).toHaveBeenCalledWith(
      "[stepup] store unavailable",
      expect.objectContaining({ cause: expect.any(String) }),
    );

    await redis.server.start();
    // Persistence is off, so Redis comes back empty: the demo's cookie session still names the
    // user, but the step-up record is gone. Expect a step-up, not a 503 and not a pass.
    const resumed = await until(async () => {
      const res = await agent.get("/api/export");
      return res.status === 503 ? undefined : res;
    }, 10_000);
    expectProblem(resumed, 401, "step_up_required");
    expect(resumed.body).toMatchObject({ factors: [] });

    // A new user on the recovered store goes through the whole flow again.
    const again = demo.agent();
    expectProblem(await again.get("/api/export"), 401, "unauthenticated");
    await signUp(again);
    expectProblem(await again.get("/api/export"), 401, "step_up_required");
  });

  it("with the demo server's own client options (offline queue on), an outage still answers 503 within seconds", async () => {
    const own = await privateRedis({ maxRetriesPerRequest: 1 });
    const app = await startDemo({ store: own.store });
    try {
      const agent = app.agent();
      await signUp(agent);
      const { secret } = await enrollTotp(agent);
      await stepUp(agent, secret);
      expect((await agent.get("/api/export")).status).toBe(200);
      vi.spyOn(console, "error").mockImplementation(() => {});
      await own.server.stop();
      const started = Date.now();
      const res = await agent.get("/api/export").timeout(10_000);
      expectProblem(res, 503, "store_unavailable");
      expect(Date.now() - started).toBeLessThan(5_000);
      expectNoLeak(res.text, [secret]);
    } finally {
      await app.close();
      await own.close();
    }
  });
});
