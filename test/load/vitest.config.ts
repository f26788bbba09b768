// `npm run load`: the long form of the load test alone (60 s, 80 users unless the environment says).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

export default defineConfig({
  root: fileURLToPath(new URL("..", import.meta.url)),
  resolve: { conditions: ["@stepup/source"] },
  ssr: { resolve: { conditions: ["@stepup/source"] } },
  test: {
    include: ["load/load.test.ts"],
    env: {
      STEPUP_LOAD_SECONDS: process.env.STEPUP_LOAD_SECONDS ?? "60",
      STEPUP_LOAD_USERS: process.env.STEPUP_LOAD_USERS ?? "80",
    },
  },
});
