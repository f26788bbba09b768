import { afterAll, beforeAll, expect, it } from "vitest";
import {
  type Agent,
  currentCode,
  type Demo,
  enrollTotp,
  expectNoLeak,
  expectProblem,
  openChallenge,
  type Res,
  signUp,
  startDemo,
  verify,
} from "./demo.js";

/** A demo (memory store) with one enrolled user holding an open challenge, for a bad-input corpus. */
export interface Corpus {
  demo: Demo;
  agent: Agent;
  email: string;
  secret: string;
  challengeId: string;
  /** Every response body seen, for the final leak check. */
  bodies: string[];
  /** Records the body and asserts a 4xx problem+json with a stable `error` code and a `detail`. */
  problem(res: Res, status: number, error: string): Record<string, unknown>;
}

export const verifyPath = (id: string) => `/stepup/api/challenges/${id}/verify`;

/** Registers the fixture's hooks in the calling test file. */
export function corpusFixture(): Corpus {
  const c = { bodies: [] as string[] } as Corpus;
  c.problem = (res, status, error) => {
    c.bodies.push(res.text);
    expect(res.status, res.text).toBeLessThan(500);
    const body = expectProblem(res, status, error);
    expect(typeof body.detail).toBe("string");
    return body;
  };
  beforeAll(async () => {
    c.demo = await startDemo();
    c.agent = c.demo.agent();
    c.email = await signUp(c.agent);
    c.secret = (await enrollTotp(c.agent)).secret;
    c.challengeId = await openChallenge(c.agent);
  });
  afterAll(async () => {
    await c.demo?.close();
  });
  return c;
}

/** The corpus's last test: no grant, nothing leaked, and (malformed input being uncounted) the real code still works. */
export function itLeftNoGrant(c: Corpus, minBodies: number): void {
  it("after the whole corpus: no grant, nothing leaked, and no guess was spent", async () => {
    c.problem(await c.agent.get("/api/export"), 401, "step_up_required");
    const status = await c.agent.get("/stepup/api/status?resource=data&action=export");
    expect(status.body).toMatchObject({ fresh: false });
    expect(c.bodies.length).toBeGreaterThanOrEqual(minBodies);
    for (const body of c.bodies) expectNoLeak(body, [c.secret]);
    const res = await verify(c.agent, c.challengeId, await currentCode(c.secret));
    expect(res.status, res.text).toBe(200);
    expect((await c.agent.get("/api/export")).status).toBe(200);
  });
}
