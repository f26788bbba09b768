import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["@stepup/source"] },
  ssr: { resolve: { conditions: ["@stepup/source"] } },
  test: { testTimeout: 20_000, hookTimeout: 30_000 },
});
