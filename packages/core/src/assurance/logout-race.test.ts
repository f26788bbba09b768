// Threat: a verification and a logout racing in one browser (the user submits a code and signs out,
// or an attacker with a stolen cookie keeps a verification in flight while the victim signs out).
// Whichever finishes first, no step-up may outlive the logout: not the old session id, and not the
// id the verification rotated it to (whose cookie can reach the browser after the logout's answer).
import { describe, expect, it } from "vitest";
import { alice, codeAt, enrollAlice, interceptStore, storeWith, testEngine } from "../../test/helpers.js";
import { StepUpError } from "../errors.js";
import { memoryStore } from "../store/memory-store.js";
import type { Store } from "../store/store.js";

/** A memory store that runs `beforeSet(key)` (awaited) before each `set`. */
function hookedStore(): { store: Store; beforeSet?: (key: string) => Promise<void> } {
  const inner = memoryStore();
  const control: { store: Store; beforeSet?: (key: string) => Promise<void> } = { store: inner };
  control.store = storeWith(inner, {
    async set(scope, key, value, ttl) {
      const hook = control.beforeSet;
      if (hook) await hook(key);
      return inner.set(scope, key, value, ttl);
    },
  });
  return control;
}

async function openFor(t: ReturnType<typeof testEngine>, sid: string) {
  const rule = t.engine.rules.lookup("a", "b");
  const { challenge } = await t.engine.openChallenge(alice, sid, rule);
  return { rule, challengeId: challenge.id };
}

describe("a verification racing a logout in one browser", () => {
  it("logout lands while the verification is writing: the verification undoes its new session and fails", async () => {
    const s = hookedStore();
    const t = testEngine({}, s.store);
    await enrollAlice(t);
    const { rule, challengeId } = await openFor(t, "x");
    // Right before the verification records where it rotated to, the logout runs to its end.
    s.beforeSet = async (key) => {
      if (!key.startsWith("rotated:")) return;
      s.beforeSet = undefined;
      await t.engine.revokeSession("alice", "x");
    };
    const error = await t.engine.challenges
      .verify(alice, "x", challengeId, { factor: "totp", code: await codeAt(t.clock.now()) })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toBeInstanceOf(StepUpError);
    expect(error).toMatchObject({ code: "CHALLENGE_NOT_FOUND" });
    // No session of alice's holds an assurance: every session key is gone.
    const sessions = await listSessions(s.store);
    expect(sessions).toEqual([]);
    expect((await t.engine.sessions.check("alice", "x", rule)).fresh).toBe(false);
    expect(t.events.some((e) => e.type === "verification.succeeded")).toBe(false);
  });

  it("the verification finished first: a logout carrying the old cookie also ends the new session id", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const { rule, challengeId } = await openFor(t, "x");
    const result = await t.engine.challenges.verify(alice, "x", challengeId, {
      factor: "totp",
      code: await codeAt(t.clock.now()),
    });
    const rotated = result.sid as string;
    expect((await t.engine.sessions.check("alice", rotated, rule)).fresh).toBe(true);
    await t.engine.revokeSession("alice", "x"); // the browser had not received the new cookie yet
    expect((await t.engine.sessions.check("alice", rotated, rule)).fresh).toBe(false);
  });

  it("a challenge of a signed-out session takes no code (a stale cookie replayed after logout)", async () => {
    const t = testEngine();
    await enrollAlice(t);
    const { challengeId } = await openFor(t, "x");
    await t.engine.revokeSession("alice", "x");
    await expect(
      t.engine.challenges.verify(alice, "x", challengeId, {
        factor: "totp",
        code: await codeAt(t.clock.now()),
      }),
    ).rejects.toMatchObject({ code: "CHALLENGE_NOT_FOUND" });
    expect(t.events.some((e) => e.type === "verification.succeeded")).toBe(false);
  });

  it("any interleaving (store calls answering in random order): after both, no session of the user is fresh", async () => {
    for (let run = 0; run < 25; run++) {
      const inner = memoryStore();
      // Every call answers after a random 0-3 ms: the two requests' steps interleave differently each run.
      const jittered = interceptStore(inner, async (_name, _args, call) => {
        await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 4)));
        return call();
      });
      const t = testEngine({}, jittered);
      await enrollAlice(t);
      const { rule, challengeId } = await openFor(t, "x");
      const code = await codeAt(t.clock.now());
      const [verified] = await Promise.all([
        t.engine.challenges.verify(alice, "x", challengeId, { factor: "totp", code }).catch(() => undefined),
        t.engine.revokeSession("alice", "x"),
      ]);
      const ids = ["x", ...(verified?.sid ? [verified.sid] : [])];
      for (const id of ids) expect((await t.engine.sessions.check("alice", id, rule)).fresh).toBe(false);
      expect(await listSessions(inner)).toEqual([]);
    }
  });
});

/** The session records the store holds for alice (memory store: listed through its own keys). */
async function listSessions(store: Store): Promise<string[]> {
  const found: string[] = [];
  for (const key of ["x", ...(await rotatedIds(store))]) {
    const [raw] = await store.getMany("alice", [`session:${key}`]);
    if (raw !== null && raw !== undefined) found.push(key);
  }
  return found;
}

async function rotatedIds(store: Store): Promise<string[]> {
  const [to] = await store.getMany("alice", ["rotated:x"]);
  return to ? [to] : [];
}
