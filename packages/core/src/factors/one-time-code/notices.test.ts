// Threat: an attacker who got in (a stolen session, a phished code) quietly adds their own factor,
// removes the victim's, burns a recovery code or trips the lockout: the user must hear of it, and
// the notice must carry nothing an attacker reading the mailbox could use.
import { describe, expect, it } from "vitest";
import { codeEngine, codeIn, enrollEmail, openFor } from "../../../test/code-factors.js";
import { alice, done } from "../../../test/helpers.js";
import type { SecurityNotice } from "./messages.js";

const notices = (t: ReturnType<typeof codeEngine>) =>
  t.mail.filter((m) => m.subject.startsWith("Security notice"));

describe("security notices", () => {
  it("tells the user by email when a factor is added or removed, without any code or secret", async () => {
    const t = codeEngine();
    await enrollEmail(t);
    const code = codeIn(t.mail[0]?.text ?? "");
    const [added] = notices(t);
    expect(added?.to).toBe("alice@example.com");
    expect(added?.text).toContain("A new two-step verification method was added to your Test account: Email");
    expect(added?.text + (added?.html ?? "")).not.toContain(code);
    // Removing it (after a step-up with it).
    const c = await openFor(t);
    await t.engine.challenges.start(alice, "s", c.id, { factor: "email" });
    const { sid } = await t.engine.challenges.verify(alice, "s", c.id, {
      factor: "email",
      code: codeIn(t.mail.filter((m) => m.subject.includes("code")).at(-1)?.text ?? ""),
    });
    const [factor] = (await t.engine.factors.list(alice.id)).filter((f) => f.type === "email");
    done(await t.engine.factors.remove(alice, factor?.id, sid));
    expect(notices(t).map((m) => m.text.split("\n")[0])).toEqual([
      expect.stringContaining("was added"),
      expect.stringContaining("was removed"),
    ]);
  });

  it("tells the user when a recovery code is used and when they are locked out", async () => {
    const seen: SecurityNotice[] = [];
    const t = codeEngine({
      engine: { notify: (n) => void seen.push(n), limits: { lockout: { maxFailures: 3, delayAfter: 0 } } },
    });
    const started = done(await t.engine.factors.enrollStart(alice, "email", {}, undefined)) as {
      factorId: string;
    };
    const confirmed = done(
      await t.engine.factors.enrollConfirm(
        alice,
        "email",
        started.factorId,
        { code: codeIn(t.lastMail().text) },
        undefined,
      ),
    );
    const [recovery] = confirmed.recoveryCodes ?? [];
    for (let i = 0; i < 3; i++) {
      const c = await openFor(t);
      await t.engine.challenges.start(alice, "s", c.id, { factor: "email" }).catch(() => {});
      const right = codeIn(t.lastMail().text);
      await t.engine.challenges
        .verify(
          alice,
          "s",
          c.id,
          { factor: "email", code: right === "000000" ? "111111" : "000000" },
          "203.0.113.5",
        )
        .catch(() => {});
      t.clock.advance(31_000);
    }
    const c = await openFor(t);
    await t.engine.challenges.verify(
      alice,
      "s",
      c.id,
      { factor: "recovery", code: recovery },
      "198.51.100.2",
    );
    expect(seen.map((n) => n.type)).toEqual(["factor.added", "lockout", "recovery.used"]);
    expect(seen[1]).toMatchObject({ ip: "203.0.113.5", user: { id: "alice" } });
    expect(seen[2]).toMatchObject({ ip: "198.51.100.2" });
    // A custom notify replaces the email default: nothing was mailed.
    expect(notices(t)).toHaveLength(0);
    expect(JSON.stringify(seen)).not.toContain(recovery);
  });

  it("notify: false sends none; a failing notifier never breaks the request", async () => {
    const off = codeEngine({ engine: { notify: false } });
    await enrollEmail(off);
    expect(notices(off)).toHaveLength(0);
    const failing = codeEngine({
      engine: {
        notify: () => {
          throw new Error("mail down");
        },
      },
    });
    await enrollEmail(failing);
    expect(failing.logs.some((l) => l.startsWith("notify failed"))).toBe(true);
  });
});
