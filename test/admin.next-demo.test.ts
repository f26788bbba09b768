// The admin API on the Next.js demo (next start) with ADMIN_EMAILS: the same contract as the Express
// demo's (admin.demo.test.ts covers it in depth); this shows the Next wiring passes authorizeAdmin
// and the administrator's step-up through. Attack: a signed-in non-administrator reading a user.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { problem } from "./support/codes.js";
import { PASSWORD, uniqueEmail } from "./support/demo.js";
import { navigate } from "./support/navigate.js";
import { type NextDemo, startNextDemo } from "./support/next.js";
import { addTotp, challengeOf, verify } from "./support/policy.js";
import { Browser } from "./support/process.js";

let demo: NextDemo;
const adminEmail = uniqueEmail("next-boss");

beforeAll(async () => {
  demo = await startNextDemo({ ADMIN_EMAILS: adminEmail });
}, 60_000);
afterAll(async () => {
  await demo?.stop();
});

async function member(email: string) {
  const b = new Browser();
  const res = await b.post(demo.origin, "/signup", { email, password: PASSWORD });
  expect(res.status, res.text).toBe(201);
  const account = await addTotp(b, demo.origin, { email, password: PASSWORD, recoveryCodes: [] });
  return { b, account, id: String(res.json.id) };
}

describe("Next demo: the admin API (ADMIN_EMAILS)", () => {
  it("403 for a non-administrator, 401 then 200 for an administrator who steps up", async () => {
    const target = await member(uniqueEmail("next-target"));
    const path = `/stepup/admin/users/${encodeURIComponent(target.id)}`;
    problem(await target.b.get(demo.origin, path), 403, "forbidden");
    expect((await navigate(target.b, demo.origin, "/admin/users")).status).toBe(403);

    const boss = await member(adminEmail);
    const gate = challengeOf(await boss.b.get(demo.origin, path), "admin");
    expect(gate).toMatchObject({ resource: "stepup", action: "admin" });
    await verify(boss.b, demo.origin, gate, boss.account);
    const res = await boss.b.get(demo.origin, path);
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({ enabled: true, factorCount: 1, lockedUntil: null });
    const page = await navigate(
      boss.b,
      demo.origin,
      `/admin/users?user=${encodeURIComponent(target.account.email)}`,
    );
    expect(page.status).toBe(200);
    expect(page.text).toContain(`data-user-id="${target.id}"`);
  });
});
