#!/usr/bin/env node
// Regenerates the README's "HTTP API and error codes" section (between <!-- api:start --> and
// <!-- api:end -->) from the OpenAPI document: builds what @stepup/http imports, then runs the
// README test in write mode. `npm test` runs the same test without it, and fails on a difference.
import { spawnSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const env = { ...process.env, TURBO_TELEMETRY_DISABLED: "1" };

function must(args, extraEnv = {}) {
  const result = spawnSync("pnpm", args, { cwd: root, stdio: "inherit", env: { ...env, ...extraEnv } });
  if (result.error) throw result.error;
  if (result.status !== 0) process.exit(result.status ?? 1);
}

must(["turbo", "run", "build", "--filter=@stepup/http^...", "--output-logs=errors-only"]);
must(["--filter", "@stepup/tests", "exec", "vitest", "run", "openapi.readme"], {
  STEPUP_WRITE_API_DOCS: "1",
});
console.log("README.md: API section regenerated from the OpenAPI document");
