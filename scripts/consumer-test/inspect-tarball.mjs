// What a published tarball must hold, checked on the unpacked files: README, LICENSE, metadata,
// exports whose every target ships (the workspace's `@stepup/source` condition included: src ships,
// tests do not), source maps whose sources ship, no workspace ranges, and no phantom dependency
// (every bare import of a built module is a dependency or peer of its package).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { isBuiltin } from "node:module";
import { dirname, join, relative } from "node:path";

function filesUnder(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...filesUnder(path));
    else out.push(path);
  }
  return out;
}

function exportTargets(value) {
  if (typeof value === "string") return [value];
  if (value === null || typeof value !== "object") return [];
  return Object.values(value).flatMap(exportTargets);
}

/** Bare specifiers a module imports: static (line-start import/export ... from), side-effect and dynamic. */
export function bareImports(source) {
  const found = new Set();
  const patterns = [
    /^\s*(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/gm,
    /^\s*import\s*["']([^"']+)["']/gm,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
    /\brequire\(\s*["']([^"']+)["']\s*\)/g,
  ];
  for (const pattern of patterns) {
    for (const match of source.matchAll(pattern)) {
      const spec = match[1];
      if (spec.startsWith(".") || spec.startsWith("/") || isBuiltin(spec)) continue;
      const parts = spec.split("/");
      found.add(spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]);
    }
  }
  return found;
}

const LICENSE_LINE = "Copyright (c) 2026 the stepup contributors";

/**
 * Checks one unpacked tarball (`unpacked` is its package/ folder) as a user would meet it; throws
 * with every problem found, else returns a one-line summary.
 * @param versions - the workspace's @stepup package versions, which the packed ranges must equal
 * @param repository - the repository address every package.json and README must point at
 */
export function inspectTarball({ pkgName, name, unpacked, tarball, versions, repository }) {
  const problems = [];
  const files = filesUnder(unpacked).map((f) => relative(unpacked, f));
  const pkg = JSON.parse(readFileSync(join(unpacked, "package.json"), "utf8"));
  const raw = readFileSync(join(unpacked, "package.json"), "utf8");

  for (const required of ["package.json", "README.md", "LICENSE"]) {
    if (!files.includes(required)) problems.push(`no ${required}`);
  }
  if (files.includes("LICENSE")) {
    const license = readFileSync(join(unpacked, "LICENSE"), "utf8");
    if (!license.startsWith("MIT License") || !license.includes(LICENSE_LINE))
      problems.push("LICENSE is not the MIT text");
  }
  for (const file of files) {
    if (/\.test\.|(^|\/)tsconfig|vitest\.config|node_modules/.test(file)) problems.push(`ships ${file}`);
  }
  if (raw.includes("workspace:")) problems.push("package.json keeps a workspace: range");
  if (pkg.private) problems.push("is private");
  if (pkg.license !== "MIT") problems.push(`license ${pkg.license}`);
  if (pkg.engines?.node !== ">=20.19") problems.push(`engines.node ${pkg.engines?.node}`);
  if (!pkg.description) problems.push("no description");
  if (!Array.isArray(pkg.keywords) || pkg.keywords.length === 0) problems.push("no keywords");
  const repo = pkg.repository ?? {};
  if (repo.type !== "git" || repo.url !== `git+${repository}.git` || repo.directory !== `packages/${name}`) {
    problems.push(`repository ${JSON.stringify(repo)}`);
  }
  for (const target of exportTargets(pkg.exports)) {
    if (!files.includes(target.replace(/^\.\//, ""))) problems.push(`exports ${target}, not in the tarball`);
  }
  const declared = { ...pkg.peerDependencies, ...pkg.dependencies };
  for (const [dep, range] of Object.entries(declared)) {
    if (versions[dep] !== undefined && range !== versions[dep])
      problems.push(`${dep}@${range}, workspace has ${versions[dep]}`);
  }
  if (files.includes("README.md")) {
    const readme = readFileSync(join(unpacked, "README.md"), "utf8");
    if (!readme.includes(`npm install ${pkgName}`)) problems.push("README has no install line");
    if (!readme.includes(repository)) problems.push("README does not point at the repository");
  }

  // Every module's imports must be a dependency or peer of this package (no phantom dependency),
  // and no module may point at a source map the tarball does not carry.
  const used = new Set();
  for (const file of files.filter((f) => /\.(?:m?js|d\.ts)$/.test(f) && !f.startsWith("src/"))) {
    const source = readFileSync(join(unpacked, file), "utf8");
    for (const spec of bareImports(source)) {
      used.add(spec);
      if (spec !== pkgName && !(spec in declared))
        problems.push(`${file} imports ${spec}, not a dependency or peer`);
    }
    for (const match of source.matchAll(/sourceMappingURL=(\S+)/g)) {
      if (!files.includes(join(dirname(file), match[1]))) problems.push(`${file} points at ${match[1]}`);
    }
  }
  // A map's sources must ship, unless the map carries their text itself (esbuild's sourcesContent).
  for (const file of files.filter((f) => f.endsWith(".map"))) {
    const map = JSON.parse(readFileSync(join(unpacked, file), "utf8"));
    map.sources.forEach((source, i) => {
      const path = join(dirname(file), map.sourceRoot ?? "", source);
      if (!files.includes(path) && typeof map.sourcesContent?.[i] !== "string") {
        problems.push(`${file} maps ${source}, which does not ship`);
      }
    });
  }
  const unused = Object.keys(pkg.dependencies ?? {}).filter((dep) => !used.has(dep));

  if (problems.length > 0)
    throw new Error(`${pkgName} tarball:\n  - ${[...new Set(problems)].join("\n  - ")}`);
  const unpackedBytes = files.reduce((sum, f) => sum + statSync(join(unpacked, f)).size, 0);
  return (
    `${pkgName.padEnd(16)} ${String(files.length).padStart(3)} files, ` +
    `${(statSync(tarball).size / 1024).toFixed(1)} kB packed, ${(unpackedBytes / 1024).toFixed(1)} kB unpacked; ` +
    `deps: ${Object.keys(pkg.dependencies ?? {}).join(", ") || "none"}; ` +
    `peers: ${
      Object.entries(pkg.peerDependencies ?? {})
        .map(([k, v]) => `${k} ${v}`)
        .join(", ") || "none"
    }` +
    (unused.length ? ` (declared, never imported: ${unused.join(", ")})` : "")
  );
}
