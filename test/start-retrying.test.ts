// The demos' start-up in tests: a port found free can be taken before the demo binds it (another
// test file starting a server, an inspector's ephemeral port). `startRetrying` starts again on a new
// port for exactly that failure, and for nothing else (a demo that refuses its configuration must
// fail the test at once, not three times).
import { describe, expect, it } from "vitest";
import { startRetrying } from "./support/process.js";

describe("startRetrying (the pick-then-bind port race of the test servers)", () => {
  it("starts again when the port was taken meanwhile (the demo's own words and the raw EADDRINUSE)", async () => {
    for (const message of [
      "demo: cannot listen: port 4100 is already in use (set PORT)",
      "listen EADDRINUSE",
    ]) {
      let calls = 0;
      const started = await startRetrying(async () => {
        calls++;
        if (calls === 1) throw new Error(message);
        return "up";
      });
      expect([started, calls]).toEqual(["up", 2]);
    }
  });

  it("gives up after three tries: a port that is never free is a real failure", async () => {
    let calls = 0;
    const failing = startRetrying(async () => {
      calls++;
      throw new Error("listen EADDRINUSE");
    });
    await expect(failing).rejects.toThrow(/EADDRINUSE/);
    expect(calls).toBe(3);
  });

  it("does not retry any other failure (a bad variable stops the start at once)", async () => {
    let calls = 0;
    const failing = startRetrying(async () => {
      calls++;
      throw new Error("demo exited with 1: REDIS_URL and REDIS_CLUSTER_NODES are both set");
    });
    await expect(failing).rejects.toThrow(/both set/);
    expect(calls).toBe(1);
  });
});
