import { defineConfig } from "vitest/config";

export default defineConfig({
  resolve: { conditions: ["@stepup/source"] },
  ssr: { resolve: { conditions: ["@stepup/source"] } },
});
