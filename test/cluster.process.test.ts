// Scale-out on Redis Cluster: two Express demo processes (examples/express/dist/server.js) started
// with REDIS_CLUSTER_NODES on one private 3-master cluster must behave as one deployment: a step-up
// on A passes on B, and a logout or a password change on A ends it on B at once. A user's keys live
// in one slot, on one master. A bad REDIS_CLUSTER_NODES, or both variables, stop either demo at start-up.
import { type RedisCluster, startRedisCluster } from "@stepup/testkit";
import type { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterClient, demoUserId, userKeysByMaster } from "./support/cluster.js";
import { SESSION_SECRET, STEPUP_SECRET } from "./support/demo.js";
import { challengeOf, stepUpAt, userWithTotp } from "./support/policy.js";
import { DEMO_SERVER, type DemoProcess, NEXT_START, spawnDemo, startFails } from "./support/process.js";

describe("REDIS_CLUSTER_NODES is checked at start-up", () => {
  it("REDIS_URL and REDIS_CLUSTER_NODES both set stop the Express demo, naming both", async () => {
    const { code, output } = await startFails(DEMO_SERVER, {
      REDIS_URL: "redis://127.0.0.1:6379",
      REDIS_CLUSTER_NODES: "127.0.0.1:7000,127.0.0.1:7001",
    });
    expect(code, output).toBe(1);
    expect(output).toMatch(/REDIS_URL and REDIS_CLUSTER_NODES are both set/);
    expect(output).not.toContain("stepup demo on");
  });

  for (const value of [
    "127.0.0.1",
    "127.0.0.1:7000,,127.0.0.1:7001",
    "127.0.0.1:0",
    "127.0.0.1:65536",
    "redis://127.0.0.1:7000",
    "host:port",
  ]) {
    it(`a malformed REDIS_CLUSTER_NODES=${value} stops the Express demo, naming the variable`, async () => {
      const { code, output } = await startFails(DEMO_SERVER, { REDIS_CLUSTER_NODES: value, REDIS_URL: "" });
      expect(code, output).toBe(1);
      expect(output).toContain("REDIS_CLUSTER_NODES must be host:port pairs");
      expect(output).not.toContain("stepup demo on");
    });
  }

  it("the Next demo's start script refuses a malformed REDIS_CLUSTER_NODES, and both variables, before starting Next", async () => {
    const malformed = await startFails(NEXT_START, {
      REDIS_CLUSTER_NODES: "127.0.0.1:7000;127.0.0.1:7001",
      REDIS_URL: "",
    });
    expect(malformed.code, malformed.output).toBe(1);
    expect(malformed.output).toContain("REDIS_CLUSTER_NODES must be host:port pairs");
    const both = await startFails(NEXT_START, {
      REDIS_CLUSTER_NODES: "127.0.0.1:7000",
      REDIS_URL: "redis://127.0.0.1:6379",
    });
    expect(both.code, both.output).toBe(1);
    expect(both.output).toMatch(/REDIS_URL and REDIS_CLUSTER_NODES are both set/);
  });
});

describe("two Express demo processes on one 3-master Redis Cluster (REDIS_CLUSTER_NODES)", () => {
  let cluster: RedisCluster;
  let client: Cluster;
  let a: DemoProcess;
  let b: DemoProcess;

  beforeAll(async () => {
    cluster = await startRedisCluster({ masters: 3 });
    client = await clusterClient(cluster);
    // REQUIRED: a signed-in user without a fresh step-up is challenged.
    const env = {
      REDIS_CLUSTER_NODES: cluster.nodesEnv,
      REDIS_URL: "",
      SESSION_SECRET,
      STEPUP_SECRET,
      STEPUP_POLICY: "REQUIRED",
    };
    [a, b] = await Promise.all([spawnDemo(env), spawnDemo(env)]);
  });
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    client?.disconnect();
    await cluster?.stop();
  });

  it("sign up, add TOTP and step up on A: the guarded route answers 200 on A and on B; logout on A ends it on B", async () => {
    expect(a.output()).toContain("Redis Cluster store");
    const { b: browser, account } = await userWithTotp(a.origin, "cluster");
    challengeOf(await browser.get(b.origin, "/api/export"), "B before the step-up");
    await stepUpAt(browser, a.origin, "/api/export", account);
    const onA = await browser.get(a.origin, "/api/export");
    expect(onA.status, onA.text).toBe(200);
    const onB = await browser.get(b.origin, "/api/export");
    expect(onB.status, `B sees A's step-up: ${onB.text}`).toBe(200);
    expect(onB.json.user).toBe(account.email);

    // Everything stepup keeps for this user is in one slot of one master.
    const userId = await demoUserId(client, account.email);
    const placed = await userKeysByMaster(client, userId);
    expect(placed.size, JSON.stringify([...placed])).toBe(1);
    const [[port, keys] = [0, []]] = [...placed];
    expect(keys.some((key) => key.endsWith(":factors"))).toBe(true);
    const slots = new Set(await Promise.all(keys.map((key) => cluster.keySlot(key))));
    expect(slots.size).toBe(1);
    expect(await cluster.masterOf([...slots][0] ?? -1)).toBe(port);

    // Logout on A; the same cookies replayed on B grant nothing.
    const before = browser.clone();
    expect((await browser.post(a.origin, "/logout")).status).toBe(200);
    challengeOf(await before.get(b.origin, "/api/export"), "B after the logout on A");
  });

  it("a password change on A (every step-up of the user revoked) makes B challenge the next guarded request", async () => {
    const { b: browser, account } = await userWithTotp(b.origin, "cluster-cred");
    await stepUpAt(browser, b.origin, "/admin", account);
    expect((await browser.get(a.origin, "/admin")).status).toBe(200);
    const changed = await browser.post(a.origin, "/password", {
      password: account.password,
      newPassword: "another good passphrase",
    });
    expect(changed.status, changed.text).toBe(200);
    challengeOf(await browser.get(b.origin, "/admin"), "B after the password change on A");
  });
});
