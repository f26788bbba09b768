#!/usr/bin/env node
// What a new team gets from `npm install`: packs every published package (`pnpm pack`), checks what
// the tarballs hold, then installs them with npm into a new app outside the workspace, once per
// supported version pair (Express 4 + ioredis 5, Express 5 + ioredis 6), type-checks that app under
// NodeNext and under bundler resolution (plus the README's Next.js and browser snippets), and runs a
// real step-up through it: sign in, enroll TOTP, 401 step_up_required, verify, 200. On the memory
// store and on Redis (a private redis-server on a free port). Exits non-zero on any failure.
//
//   node scripts/consumer-test.mjs [--keep]    (--keep leaves the temporary folder for a look)
//
// Needs: Node 20.19+, npm, pnpm (what `npm test` installs), Debian's redis-server, the npm registry.
// The app it installs is scripts/consumer-test/app; the checks live beside it.
import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { inspectTarball } from "./consumer-test/inspect-tarball.mjs";
import { children, startApp, startRedis, stop } from "./consumer-test/processes.mjs";
import { stepUpFlow } from "./consumer-test/step-up-flow.mjs";

/** The one place the repository address is written down for the checks below (confirm before publishing). */
const REPOSITORY = "https://github.com/stepup-mfa/stepup";
const PUBLISHED = ["core", "http", "redis", "express", "next", "browser", "verify"];
const PAIRS = [
  { label: "Express 4 + ioredis 5", express: "4.22.3", typesExpress: "4.17.25", ioredis: "5.9.3" },
  { label: "Express 5 + ioredis 6", express: "5.3.0", typesExpress: "5.0.6", ioredis: "6.0.0" },
];
const TOOLS = {
  typescript: "7.0.2",
  "@types/node": "^20.19.0",
  otplib: "13.5.0",
  next: "16.4.6",
  react: "19.3.1",
  "react-dom": "19.3.1",
  "@types/react": "19.3.0",
};

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
// pnpm on PATH, or the project-local copy scripts/run.mjs installs when a global install is refused.
const localPnpm = join(root, ".tools", "node_modules", ".bin", "pnpm");
const pnpm = spawnSync("pnpm", ["--version"]).status !== 0 && existsSync(localPnpm) ? localPnpm : "pnpm";
const keep = process.argv.includes("--keep");
const began = performance.now();
const timings = [];
/** Checks passed: one per tarball, per install, per type-check and per step-up flow. */
let passed = 0;
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

function log(message) {
  console.log(`[consumer ${seconds(performance.now() - began).padStart(7)}] ${message}`);
}

function fail(message) {
  throw new Error(message);
}

function check(condition, message) {
  if (!condition) fail(message);
}

async function timed(label, fn) {
  const start = performance.now();
  log(`${label} ...`);
  const result = await fn();
  const ms = performance.now() - start;
  timings.push([label, ms]);
  log(`${label}: done in ${seconds(ms)}`);
  return result;
}

/** Runs a command to completion; its output is shown only when it fails. */
function run(cmd, args, options = {}) {
  const result = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024, ...options });
  if (result.error) fail(`${cmd} ${args.join(" ")}: ${result.error.message}`);
  if (result.status !== 0) {
    fail(`${cmd} ${args.join(" ")} exited ${result.status}\n${result.stdout}\n${result.stderr}`.trimEnd());
  }
  return result.stdout;
}

function workspaceVersions() {
  const versions = {};
  for (const name of PUBLISHED) {
    const pkg = JSON.parse(readFileSync(join(root, "packages", name, "package.json"), "utf8"));
    versions[pkg.name] = pkg.version;
  }
  return versions;
}

function pack(into) {
  mkdirSync(into, { recursive: true });
  const tarballs = {};
  for (const name of PUBLISHED) {
    const dir = join(root, "packages", name);
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"));
    check(existsSync(join(dir, "dist", "index.js")), `packages/${name} is not built (run npm test first)`);
    run(pnpm, ["pack", "--pack-destination", into], { cwd: dir });
    const file = join(into, `${pkg.name.replace("@", "").replace("/", "-")}-${pkg.version}.tgz`);
    check(existsSync(file), `pnpm pack wrote no ${file}`);
    tarballs[pkg.name] = { name, file };
  }
  return tarballs;
}

// ---------------------------------------------------------------------------------------------
// One consumer app per version pair

function appPackageJson(pair, tarballs) {
  const file = (pkg) => `file:${tarballs[pkg].file}`;
  return {
    name: "stepup-consumer",
    private: true,
    type: "module",
    // What an app lists: the packages it imports. @stepup/http comes in only through
    // @stepup/express and @stepup/next; the overrides point each @stepup dependency at its tarball.
    dependencies: {
      "@stepup/core": file("@stepup/core"),
      "@stepup/express": file("@stepup/express"),
      "@stepup/redis": file("@stepup/redis"),
      "@stepup/next": file("@stepup/next"),
      "@stepup/browser": file("@stepup/browser"),
      "@stepup/verify": file("@stepup/verify"),
      express: pair.express,
      ioredis: pair.ioredis,
      next: TOOLS.next,
      react: TOOLS.react,
      "react-dom": TOOLS["react-dom"],
    },
    devDependencies: {
      typescript: TOOLS.typescript,
      "@types/express": pair.typesExpress,
      "@types/node": TOOLS["@types/node"],
      "@types/react": TOOLS["@types/react"],
      otplib: TOOLS.otplib,
    },
    overrides: {
      "@stepup/core": "$@stepup/core",
      "@stepup/browser": "$@stepup/browser",
      "@stepup/http": file("@stepup/http"),
    },
  };
}

/**
 * Writes the ```ts/```tsx examples of each installed package's README under readme/<package>/, so
 * the bundler type-check covers them too. A block that opens with a `// path/file.ts` comment is
 * written to that path (the Next.js README's `@/lib/stepup` resolves through tsconfig `paths`).
 */
function writeReadmeExamples(appDir) {
  let count = 0;
  for (const name of PUBLISHED) {
    const readme = readFileSync(join(appDir, "node_modules", "@stepup", name, "README.md"), "utf8");
    let index = 0;
    for (const [, ext, code] of readme.matchAll(/^```(ts|tsx)\n([\s\S]*?)^```/gm)) {
      const named = /^\/\/ ([\w./[\]-]+\.tsx?)\n/.exec(code)?.[1];
      const file = join(appDir, "readme", name, named ?? `example-${++index}.${ext}`);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, code);
      count++;
    }
  }
  return count;
}

async function consumer(pair, tarballs, work, redis) {
  const appDir = join(work, `app-express-${pair.express.split(".")[0]}`);
  mkdirSync(appDir);
  cpSync(join(root, "scripts", "consumer-test", "app"), appDir, { recursive: true });
  writeFileSync(join(appDir, "package.json"), `${JSON.stringify(appPackageJson(pair, tarballs), null, 2)}\n`);

  await timed(`${pair.label}: npm install`, () =>
    run("npm", ["install", "--no-audit", "--no-fund", "--loglevel=error"], { cwd: appDir }),
  );
  const installed = (name) =>
    JSON.parse(readFileSync(join(appDir, "node_modules", name, "package.json"), "utf8"));
  check(installed("express").version === pair.express, `express ${installed("express").version} installed`);
  check(installed("ioredis").version === pair.ioredis, `ioredis ${installed("ioredis").version} installed`);
  const lock = JSON.parse(readFileSync(join(appDir, "package-lock.json"), "utf8"));
  for (const name of Object.keys(tarballs)) {
    const entry = lock.packages[`node_modules/${name}`];
    check(
      entry?.resolved?.startsWith("file:"),
      `${name} did not come from its tarball: ${JSON.stringify(entry)}`,
    );
  }
  // Peers satisfied, nothing missing or invalid (npm ls exits non-zero otherwise).
  run("npm", ["ls", "--all", "--loglevel=error"], { cwd: appDir });
  passed++;

  const examples = writeReadmeExamples(appDir);
  const tsc = join(appDir, "node_modules", ".bin", "tsc");
  await timed(`${pair.label}: tsc (NodeNext; emits dist/app.js)`, () =>
    run(tsc, ["-p", "tsconfig.nodenext.json"], { cwd: appDir }),
  );
  passed++;
  await timed(
    `${pair.label}: tsc (bundler; the Express app, Next.js + browser files, ${examples} README examples)`,
    () => run(tsc, ["-p", "tsconfig.bundler.json"], { cwd: appDir }),
  );
  passed++;

  const otplib = await import(
    pathToFileURL(createRequire(join(appDir, "package.json")).resolve("otplib")).href
  );
  const totpCode = (secret, atMs) => otplib.generate({ secret, epoch: Math.floor(atMs / 1000) });

  for (const store of ["memory", "redis"]) {
    await timed(`${pair.label}: step-up flow on the ${store} store`, async () => {
      const app = await startApp(appDir, store === "redis" ? { REDIS_URL: redis.url } : { REDIS_URL: "" });
      try {
        const steps = await stepUpFlow(app.port, totpCode);
        check(app.child.exitCode === null, `the app exited:\n${app.output()}`);
        check(!/unhandled/i.test(app.output()), `the app reported an unhandled rejection:\n${app.output()}`);
        log(`${pair.label} on ${store}: ${steps.join(" -> ")}`);
        passed++;
      } catch (error) {
        console.error(`app output:\n${app.output()}`);
        throw error;
      } finally {
        await stop(app.child);
      }
    });
  }
}

// ---------------------------------------------------------------------------------------------

let work;

function cleanUp() {
  for (const child of children) child.kill("SIGKILL");
  if (work && !keep) rmSync(work, { recursive: true, force: true });
}

process.once("exit", cleanUp);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.once(signal, () => {
    console.error(`consumer test: ${signal}, cleaning up`);
    process.exit(130);
  });
}

try {
  work = mkdtempSync(join(tmpdir(), "stepup-consumer-"));
  log(`working in ${work}${keep ? " (kept)" : " (removed at the end)"}`);
  await timed("build (turbo, cached after npm test)", () =>
    run(pnpm, ["turbo", "run", "build", "--filter=./packages/*", "--output-logs=errors-only"], {
      cwd: root,
    }),
  );
  const tarballs = await timed("pnpm pack", () => pack(join(work, "tarballs")));
  await timed("inspect tarballs", () => {
    const versions = workspaceVersions();
    for (const [pkgName, { name, file }] of Object.entries(tarballs)) {
      const dir = join(work, "unpacked", name);
      mkdirSync(dir, { recursive: true });
      run("tar", ["-xzf", file, "-C", dir]);
      log(
        inspectTarball({
          pkgName,
          name,
          unpacked: join(dir, "package"),
          tarball: file,
          versions,
          repository: REPOSITORY,
        }),
      );
      passed++;
    }
  });
  const redis = await startRedis();
  for (const pair of PAIRS) await consumer(pair, tarballs, work, redis);

  console.log("\nconsumer test timings:");
  for (const [label, ms] of timings) console.log(`  ${seconds(ms).padStart(8)}  ${label}`);
  console.log(`  ${seconds(performance.now() - began).padStart(8)}  total`);
  console.log(`consumer test: passed (${PAIRS.map((p) => p.label).join("; ")})`);
  console.log(`consumer: ${passed} passed, 0 failed`);
} catch (error) {
  console.error(
    `\nconsumer test: FAILED after ${seconds(performance.now() - began)}\n${error?.stack ?? error}`,
  );
  console.error(`consumer: ${passed} passed, 1 failed`);
  process.exitCode = 1;
} finally {
  // Stop what is still running (redis-server, an app after a failure) before leaving: a live child
  // would keep this process waiting. The exit handler removes the temporary folder.
  await Promise.all([...children].map((child) => stop(child)));
  process.exit();
}
