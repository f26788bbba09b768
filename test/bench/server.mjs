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

function shutdown() {
  server.close();
  server.closeAllConnections?.();
  client?.disconnect();
  process.exit(0);
}
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
