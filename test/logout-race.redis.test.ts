// Attack: a verification and a logout racing in one browser. The user submits a code in one tab and
// signs out in another (or someone with the user's cookies keeps a verification in flight while the
// user signs out). Before the fix the verification could finish after the logout: it wrote a new
// step-up session, its Set-Cookie reached the browser after the logout's, and the next sign-in of
// that browser was stepped up without a second factor. The Express demo on a private Redis; both
// requests from one cookie jar, fired together, for several users at once.
import { describe, expect, it } from "vitest";
import { currentCode, enrollTotp, logIn, openChallenge, signUp, startDemo } from "./support/demo.js";
import { privateRedis } from "./support/redis.js";

describe("a verification racing a logout in one browser (real Redis)", () => {
  it("whichever lands first, after signing in again the browser is not stepped up", async () => {
    const redis = await privateRedis();
    const demo = await startDemo({ store: redis.store, policy: { requirement: "REQUIRED" } });
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const agent = demo.agent();
        const email = await signUp(agent);
        const { secret } = await enrollTotp(agent);
        const challengeId = await openChallenge(agent);
        const code = await currentCode(secret);
        // Both from the same cookie jar, at once: the code, and the logout.
        const [verified, loggedOut] = await Promise.all([
          agent.post(`/stepup/api/challenges/${challengeId}/verify`).send({ factor: "totp", code }),
          agent.post("/logout").send({}),
        ]);
        expect(loggedOut.status).toBe(200);
        // The verification either won the race (200) or found the session signed out (404).
        expect([200, 404], verified.text).toContain(verified.status);
        await logIn(agent, email);
        const guarded = await agent.get("/api/export").set("accept", "application/json");
        return { verify: verified.status, after: guarded.status, error: guarded.body.error };
      }),
    ).finally(async () => {
      await demo.close();
      await redis.close();
    });
    for (const o of outcomes)
      expect(o, JSON.stringify(outcomes)).toMatchObject({ after: 401, error: "step_up_required" });
  });
});
