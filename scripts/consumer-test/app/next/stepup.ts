// The README's lib/stepup.ts (a Next.js App Router app), on Redis.
import { memoryStore, totp } from "@stepup/core";
import { createStepUp } from "@stepup/next";
import { redisStore } from "@stepup/redis";
import { Redis } from "ioredis";

async function currentUser(request: Request): Promise<{ id: string; email: string } | null> {
  const sid = request.headers.get("cookie")?.match(/(?:^|; )sid=([^;]+)/)?.[1];
  return sid ? { id: sid, email: `${sid}@example.com` } : null;
}

export const stepup = createStepUp({
  store: process.env.REDIS_URL ? redisStore({ client: new Redis(process.env.REDIS_URL) }) : memoryStore(),
  secret: "consumer-test-stepup-secret-0123456789abcdef", // process.env.STEPUP_SECRET in a real app
  appName: "Acme",
  factors: [totp()],
  trustProxy: 1,
  getUser: async (request: Request) => {
    const user = await currentUser(request);
    return user ? { id: user.id, email: user.email } : null;
  },
});
