// Bundles the browser client twice: `dist/index.js` (ESM, for apps that import @stepup/browser and
// bundle it themselves) and `dist/stepup.js` (self-contained, minified, served by @stepup/http at
// `{basePath}/assets/stepup.js`: page enhancer + `window.stepup`). Types come from `tsc`.
import { build } from "esbuild";

const common = { bundle: true, platform: "browser", target: "es2022", format: "esm", logLevel: "warning" };

await build({ ...common, entryPoints: ["src/index.ts"], outfile: "dist/index.js", sourcemap: true });
await build({
  ...common,
  entryPoints: ["src/bundle.ts"],
  outfile: "dist/stepup.js",
  minify: true,
  legalComments: "none",
});
