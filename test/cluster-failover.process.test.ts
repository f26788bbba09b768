// Failover: the Redis Cluster master holding a stepped-up user's slot dies (SIGKILL) while guarded
// requests keep coming. Until its replica is promoted the guard must fail closed: 503
// store_unavailable, never a 500, never a 200 for a session that has no fresh step-up record. Once
// the replica serves the slot, the same demo process (no restart) grants again, within a bound, and
// a logout still ends the step-up. One Express demo process (examples/express/dist/server.js) with
// REDIS_CLUSTER_NODES on a private cluster of 3 masters + 3 replicas (cluster-node-timeout 1 s).
import { type RedisCluster, startRedisCluster } from "@stepup/testkit";
import type { Cluster } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { clusterClient, demoUserId } from "./support/cluster.js";
import { expectNoLeak, SESSION_SECRET, STEPUP_SECRET } from "./support/demo.js";
import { challengeOf, logIn, stepUpAt, userWithTotp } from "./support/policy.js";
import { Browser, type DemoProcess, spawnDemo } from "./support/process.js";

/** The bound on recovery the test holds the demo to, from the kill. */
const RECOVERY_MS = 30_000;

let cluster: RedisCluster;
let client: Cluster;
let demo: DemoProcess;

beforeAll(async () => {
  cluster = await startRedisCluster({ masters: 3, replicasPerMaster: 1 });
  client = await clusterClient(cluster);
  demo = await spawnDemo({
    REDIS_CLUSTER_NODES: cluster.nodesEnv,
    REDIS_URL: "",
    SESSION_SECRET,
    STEPUP_SECRET,
    STEPUP_POLICY: "REQUIRED",
  });
});

afterAll(async () => {
  await demo?.stop();
  client?.disconnect();
  await cluster?.stop();
});

interface Sample {
  /** When the request was sent, in ms since the master's process exited (negative: before). */
  readonly at: number;
  readonly who: "stepped-up" | "control";
  readonly status: number;
  readonly error: unknown;
  readonly ms: number;
  readonly body: string;
}

describe("Redis Cluster failover under load (Express demo process, 3 masters + 3 replicas)", () => {
  it("killing the master of the user's slot: 503 store_unavailable while it fails over (never 200 without a step-up, never 500), then 200 again with no restart", async () => {
    // The stepped-up browser, and a control: the same user signed in elsewhere, never stepped up.
    const { b: steppedUp, account } = await userWithTotp(demo.origin, "failover");
    await stepUpAt(steppedUp, demo.origin, "/api/export", account);
    expect((await steppedUp.get(demo.origin, "/api/export")).status).toBe(200);
    const control = new Browser();
    expect((await logIn(control, demo.origin, account)).status).toBe(200);
    challengeOf(await control.get(demo.origin, "/api/export"), "control before the kill");

    const userId = await demoUserId(client, account.email);
    const slot = await cluster.keySlot(`stepup:{${userId}}:factors`);
    const victim = await cluster.masterOf(slot);
    // Replication is asynchronous: the step-up record must be on the replica before its master dies.
    await cluster.syncReplicas();

    const samples: Sample[] = [];
    let killedAt = Number.POSITIVE_INFINITY;
    const send = async (who: Sample["who"], browser: Browser): Promise<Sample> => {
      const started = Date.now();
      const res = await browser.get(demo.origin, "/api/export");
      const sample = {
        at: started - killedAt,
        who,
        status: res.status,
        error: res.json.error,
        ms: Date.now() - started,
        body: res.text,
      };
      samples.push(sample);
      return sample;
    };

    // Guarded requests from both browsers, back to back, before, during and after the failover.
    let recoveredAt: number | undefined;
    let stop = false;
    const load = (async () => {
      let consecutiveOk = 0;
      while (!stop) {
        const [mine] = await Promise.all([send("stepped-up", steppedUp), send("control", control)]);
        await new Promise((resolve) => setTimeout(resolve, 20)); // a steady load, not a flood
        const now = Date.now();
        if (now < killedAt) continue;
        consecutiveOk = mine.status === 200 ? consecutiveOk + 1 : 0;
        const sawFailure = samples.some((s) => s.at >= 0 && s.status === 503);
        // Recovered: ten grants in a row after the outage was seen.
        if (sawFailure && consecutiveOk >= 10) {
          recoveredAt = now - killedAt;
          return;
        }
        if (now - killedAt > RECOVERY_MS) return;
      }
    })();

    await new Promise((resolve) => setTimeout(resolve, 500));
    await cluster.kill(victim);
    // From here on the master is gone (its process has exited): only its replica holds the slot.
    killedAt = Date.now();
    try {
      await load;
    } finally {
      stop = true;
    }

    const after = samples.filter((s) => s.at >= 0);
    const failures = after.filter((s) => s.status === 503);
    const firstFailure = failures[0];
    const lastFailure = failures.at(-1);
    const firstRecovered = after.find(
      (s) => s.who === "stepped-up" && s.status === 200 && s.at > (lastFailure?.at ?? 0),
    );
    const figures = {
      victim,
      slot,
      samplesBefore: samples.length - after.length,
      samplesAfter: after.length,
      firstFailureMs: firstFailure?.at,
      lastFailureMs: lastFailure?.at,
      failures503: failures.length,
      slowest503Ms: Math.max(0, ...failures.map((s) => s.ms)),
      firstGrantAgainMs: firstRecovered?.at,
      recoveredMs: recoveredAt,
      newMaster: await cluster.masterOf(slot).catch(() => undefined),
    };
    console.log(`failover figures: ${JSON.stringify(figures)}`);

    // Fail closed: only a grant or a 503 for the stepped-up session, a challenge or a 503 for the control.
    for (const s of samples) {
      const allowed =
        s.who === "stepped-up"
          ? s.status === 200 || (s.status === 503 && s.error === "store_unavailable")
          : (s.status === 401 && s.error === "step_up_required") ||
            (s.status === 503 && s.error === "store_unavailable");
      expect(allowed, `${s.who} at ${s.at} ms: ${s.status} ${s.body.slice(0, 300)}`).toBe(true);
      if (s.status === 503) expectNoLeak(s.body);
    }
    expect(samples.filter((s) => s.at < 0).length, "requests before the kill").toBeGreaterThan(0);
    expect(failures.length, "the outage was seen (503s)").toBeGreaterThan(0);
    // No grant while no live master serves the slot: the first request after the death fails closed.
    for (const who of ["stepped-up", "control"] as const) {
      const first = after.find((s) => s.who === who);
      expect(first?.status, `${who}: the first request after the kill`).toBe(503);
    }
    // Each 503 answers within stepup's 2 s store deadline (plus slack for a loaded machine).
    expect(figures.slowest503Ms).toBeLessThan(3_500);
    expect(recoveredAt, `granted again within ${RECOVERY_MS} ms of the kill`).toBeDefined();
    expect(figures.newMaster, "the replica now serves the slot").not.toBe(victim);
    expect(demo.child.exitCode, "the demo kept running").toBeNull();

    // After the failover the control is still challenged, and a logout still ends the step-up.
    challengeOf(await control.get(demo.origin, "/api/export"), "control after the failover");
    const replay = steppedUp.clone();
    expect((await steppedUp.post(demo.origin, "/logout")).status).toBe(200);
    challengeOf(await replay.get(demo.origin, "/api/export"), "replayed cookies after the logout");
  });
});
