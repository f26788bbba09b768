#!/usr/bin/env node
import { spawnSync } from "node:child_process";
// One entry point for the README's commands, so they work on a fresh machine with only Node and npm:
//   npm run demo   -> install, build, start the Express demo
//   npm run demo:next -> install, build (next build), start the Next.js demo (next start)
//   npm test       -> install, then lint, typecheck, build and every test
//   npm run bench  -> install, build, run the benchmark
//   npm run load   -> install, build, run the load test's long form (four demo processes, 60 s)
//   npm run fuzz   -> install, build, the fuzz tests with 2000 runs per property (STEPUP_FUZZ_RUNS)
// pnpm is installed when missing (corepack cannot fetch it on these machines).
import { createHash } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const PNPM_VERSION = "12.21.0";
const localPnpm = join(root, ".tools", "node_modules", ".bin", "pnpm");

function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: "inherit", ...options });
  if (result.error) throw result.error;
  return result.status ?? 1;
}

function must(cmd, args, options) {
  const status = run(cmd, args, options);
  if (status !== 0) process.exit(status);
}

function works(cmd) {
  const r = spawnSync(cmd, ["--version"], { encoding: "utf8" });
  return r.status === 0 && r.stdout.trim() === PNPM_VERSION;
}

function pnpm() {
  if (works("pnpm")) return "pnpm";
  if (works(localPnpm)) return localPnpm;
  console.log(`> pnpm ${PNPM_VERSION} not found: installing it with npm`);
  if (run("npm", ["install", "--global", `pnpm@${PNPM_VERSION}`]) === 0 && works("pnpm")) return "pnpm";
  // No permission for a global install: keep a project-local copy instead.
  must("npm", ["install", "--no-save", "--prefix", join(root, ".tools"), `pnpm@${PNPM_VERSION}`]);
  return localPnpm;
}

function install(pm) {
  const lock = createHash("sha256")
    .update(readFileSync(join(root, "pnpm-lock.yaml")))
    .digest("hex");
  const stamp = join(root, "node_modules", ".stepup-installed");
  if (existsSync(stamp) && readFileSync(stamp, "utf8") === lock) return;
  must(pm, ["install", "--frozen-lockfile"]);
  writeFileSync(stamp, lock);
}

const env = { ...process.env, NEXT_TELEMETRY_DISABLED: "1", TURBO_TELEMETRY_DISABLED: "1" };
const command = process.argv[2];
const pm = pnpm();
install(pm);

if (command === "demo") {
  must(pm, ["turbo", "run", "build", "--filter=@stepup/example-express...", "--output-logs=errors-only"], {
    env,
  });
  must("node", ["examples/express/dist/server.js"], { env });
} else if (command === "demo:next") {
  must(pm, ["turbo", "run", "build", "--filter=@stepup/example-next...", "--output-logs=errors-only"], {
    env,
  });
  must("node", ["examples/next/scripts/start.mjs"], { env });
} else if (command === "test") {
  must(pm, ["exec", "biome", "check", "."], { env });
  must(pm, ["turbo", "run", "build", "typecheck", "test", "--output-logs=new-only", "--concurrency=2"], {
    env,
  });
} else if (command === "bench") {
  must(pm, ["turbo", "run", "build", "--filter=@stepup/tests...", "--output-logs=errors-only"], { env });
  must(pm, ["--filter", "@stepup/tests", "run", "bench"], { env });
} else if (command === "load") {
  // The demo processes run the built Express demo; the test itself runs from source (vitest).
  must(pm, ["turbo", "run", "build", "--filter=@stepup/example-express...", "--output-logs=errors-only"], {
    env,
  });
  must(pm, ["--filter", "@stepup/tests", "run", "load"], { env });
} else if (command === "fuzz") {
  // The fuzz tests run from source, but the HTTP layer serves the browser bundle, which is built.
  must(
    pm,
    [
      "turbo",
      "run",
      "build",
      "--filter=@stepup/example-express...",
      "--filter=@stepup/next...",
      "--output-logs=errors-only",
    ],
    { env },
  );
  must(pm, ["--filter", "@stepup/tests", "run", "fuzz"], { env: { STEPUP_FUZZ_RUNS: "2000", ...env } });
} else {
  console.error("usage: node scripts/run.mjs demo|demo:next|test|bench|load|fuzz");
  process.exit(2);
}
