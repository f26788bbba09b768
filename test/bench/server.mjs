// One benchmark server: `node bench/server.mjs <scenario>` with REDIS_URL set (scenarios: apps.mjs).
// Listens on a free loopback port and prints one JSON line `{"port": N}` once it accepts connections.
// Plain JavaScript importing the built packages (dist/): Node 20 has no --experimental-strip-types.
import { Redis } from "ioredis";
import { createApp, SCENARIOS } from "./apps.mjs";

const scenario = process.argv[2];
if (!SCENARIOS.includes(scenario)) {
  console.error(`usage: node bench/server.mjs <${SCENARIOS.join("|")}>`);
  process.exit(2);
}
const redisUrl = process.env.REDIS_URL;
if (!redisUrl && scenario !== "bare") {
  console.error("bench server: REDIS_URL is not set");
  process.exit(2);
}

const client = redisUrl ? new Redis(redisUrl, { maxRetriesPerRequest: 1 }) : undefined;
const { app } = await createApp(scenario, { client });
const server = app.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
server.keepAliveTimeout = 60_000;

// STEPUP_BENCH_GC=1: count garbage collections by kind and their time (printed at exit).
const gc = { minor: 0, major: 0, other: 0, ms: 0 };
if (process.env.STEPUP_BENCH_GC === "1") {
  const { PerformanceObserver, constants } = await import("node:perf_hooks");
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = e.detail?.kind;
      if (kind === constants.NODE_PERFORMANCE_GC_MINOR) gc.minor++;
      else if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) gc.major++;
      else gc.other++;
      gc.ms += e.duration;
    }
  }).observe({ entryTypes: ["gc"] });
  let requests = 0;
  server.on("request", () => requests++);
  process.on("exit", () => console.error(`[${scenario}] gc: ${JSON.stringify({ ...gc, requests })}`));
}

function shutdown() {
  server.close();
  server.closeAllConnections?.();
  client?.disconnect();
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
