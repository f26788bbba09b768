// Loaded into a benchmark server by bench/allocations.mjs (`node --require`): V8's sampling heap
// profiler over the in-process inspector, counting every sampled allocation, including the objects
// the young and the full collections have freed since (what a request allocates, not what it keeps).
// SIGUSR1 starts it, SIGUSR2 stops it and writes the profile to STEPUP_ALLOC_OUT.
const { Session } = require("node:inspector");
const { writeFileSync } = require("node:fs");

const session = new Session();
session.connect();
const post = (method, params) =>
  new Promise((resolve, reject) => session.post(method, params, (e, r) => (e ? reject(e) : resolve(r))));

process.on("SIGUSR1", async () => {
  await post("HeapProfiler.enable");
  await post("HeapProfiler.startSampling", {
    samplingInterval: Number(process.env.STEPUP_ALLOC_INTERVAL ?? 512),
    includeObjectsCollectedByMajorGC: true,
    includeObjectsCollectedByMinorGC: true,
  });
  process.stderr.write("alloc: sampling\n");
});
process.on("SIGUSR2", async () => {
  const { profile } = await post("HeapProfiler.stopSampling");
  writeFileSync(process.env.STEPUP_ALLOC_OUT, JSON.stringify(profile));
  process.stderr.write("alloc: written\n");
});
