import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/** @type {import("next").NextConfig} */
const nextConfig = {
  // The workspace packages live above this folder (pnpm symlinks): let Turbopack see the repo root.
  turbopack: { root: join(here, "../..") },
  outputFileTracingRoot: join(here, "../.."),
  // Loaded by Node at run time rather than bundled: @stepup/http reads the browser bundle from its
  // installed package, and ioredis is a Node client.
  serverExternalPackages: ["@stepup/core", "@stepup/http", "@stepup/redis", "ioredis"],
  poweredByHeader: false,
};

export default nextConfig;
