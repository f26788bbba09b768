#!/usr/bin/env node
// Type-checks every TypeScript block of the root README.md, so copy-pasted code compiles.
//
// Each ```ts / ```tsx block becomes a file in readme/.snippets/<section>/ (git-ignored):
// - a block whose first line is a path comment (`// lib/stepup.ts`) is written to that path, so a
//   section can show several files of one app (the Next.js section imports "@/lib/stepup");
// - a block whose first line starts with `// continued` is appended to the block before it;
// - any other block is a file of its own.
// Then tsc checks them all (strict, bundler resolution, DOM and Node types) against the workspace
// packages' sources. On failure it names the README line of each broken block.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..", "..");
const out = join(here, ".snippets");
const readme = readFileSync(join(root, "README.md"), "utf8").split("\n");

const slug = (s) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-|-$/g, "") || "top";
const PATH_COMMENT = /^\/\/ ([\w@.\-/[\]]+\.tsx?)(?:\s|:|$)/;

/** Blocks as { file, line, lines }, in README order. */
const files = new Map();
let section = "top";
let counter = 0;
let previous;
for (let i = 0; i < readme.length; i++) {
  const heading = /^##+ (.*)/.exec(readme[i]);
  if (heading) section = slug(heading[1]);
  const fence = /^```(ts|tsx)\s*$/.exec(readme[i]);
  if (!fence) continue;
  const start = i + 1;
  let end = start;
  while (end < readme.length && !readme[end].startsWith("```")) end++;
  const body = readme.slice(start, end);
  i = end;
  const first = body[0] ?? "";
  if (first.startsWith("// continued") && previous) {
    previous.lines.push("", ...body);
    continue;
  }
  const named = PATH_COMMENT.exec(first);
  const file = join(section, named ? named[1] : `snippet-${++counter}.${fence[1]}`);
  previous = { file, line: start + 1, lines: body };
  files.set(file, previous);
}

rmSync(out, { recursive: true, force: true });
for (const { file, lines } of files.values()) {
  mkdirSync(dirname(join(out, file)), { recursive: true });
  // A module of its own, even when it imports nothing.
  writeFileSync(join(out, file), `${lines.join("\n")}\nexport {};\n`);
}
const nextSection = [...files.keys()].find((f) => f.includes("/app/"))?.split("/")[0] ?? "top";
writeFileSync(
  join(out, "tsconfig.json"),
  JSON.stringify(
    {
      compilerOptions: {
        target: "es2022",
        module: "esnext",
        moduleResolution: "bundler",
        jsx: "react-jsx",
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        lib: ["es2022", "dom", "dom.iterable"],
        types: ["node"],
        customConditions: ["@stepup/source"],
        paths: { "@/*": [`./${nextSection}/*`] },
      },
      include: ["**/*.ts", "**/*.tsx"],
    },
    null,
    2,
  ),
);

const tsc = join(root, "node_modules", ".bin", "tsc");
const result = spawnSync(tsc, ["-p", join(out, "tsconfig.json")], { encoding: "utf8" });
const output = `${result.stdout}${result.stderr}`;
if (result.status !== 0) {
  // Map each error back to the README block it came from.
  for (const [file, block] of files) {
    if (output.includes(file.replaceAll("\\", "/")))
      console.error(
        `README.md line ${block.line}: the block written to ${relative(root, join(out, file))} does not compile`,
      );
  }
  console.error(output);
  process.exit(1);
}
console.log(`README: ${files.size} TypeScript blocks compile`);
