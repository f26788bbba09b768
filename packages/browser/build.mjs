// Bundles the browser client twice (and the modules the server shares with it once): `dist/index.js` (ESM, for apps that import @stepup/browser and
// bundle it themselves) and `dist/stepup.js` (self-contained, minified, served by @stepup/http at
// `{basePath}/assets/stepup.js`: page enhancer + `window.stepup`). Types come from `tsc`.
import { mkdir, writeFile } from "node:fs/promises";
import { build } from "esbuild";

const common = { bundle: true, platform: "browser", target: "es2022", format: "esm", logLevel: "warning" };

await build({ ...common, entryPoints: ["src/index.ts"], outfile: "dist/index.js", sourcemap: true });
// The design tokens and the retry wording, alone: @stepup/http renders the pages with them.
await build({
  ...common,
  platform: "neutral",
  entryPoints: ["src/tokens.ts", "src/retry-text.ts"],
  outdir: "dist",
});
const bundle = await build({
  ...common,
  entryPoints: ["src/bundle.ts"],
  outfile: "dist/stepup.js",
  minify: true,
  legalComments: "none",
  write: false,
});
const [file] = bundle.outputFiles;
await mkdir("dist", { recursive: true });
await writeFile("dist/stepup.js", file.contents);
// The same bytes as a module, so a server that is itself bundled (Next's Turbopack rewrites
// require.resolve into module ids) still carries the file: @stepup/http imports this.
await writeFile("dist/bundle-source.js", `export const source = ${JSON.stringify(file.text)};\n`);
