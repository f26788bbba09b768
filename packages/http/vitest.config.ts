import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["@stepup/source"] },
  ssr: { resolve: { conditions: ["@stepup/source"] } },
  // --expose-gc: session-cookie.header-pinning.test.ts measures the heap after full collections.
  test: { testTimeout: 20_000, hookTimeout: 30_000, execArgv: ["--expose-gc"] },
});
