// Through the real routes: a user who guesses too fast is told when to try again (429 with
// Retry-After, the page counting down), a locked user is shown the way back in, and Cancel leads
// back to the page they came from: never another site, never the guarded URL again.
import { recoveryCodes, totp } from "@stepup/core";
import { generate } from "otplib";
import { describe, expect, it } from "vitest";
import { testHttp } from "../../test/helpers.js";
import type { StepUpHttpOptions } from "../create-step-up-http.js";
import { cancelUrlFor } from "./page-response.js";

const origin = "http://localhost:3000";
const user = { id: "alice" };
const HTML = "text/html";

async function setup(limits: StepUpHttpOptions["limits"]) {
  const http = testHttp({ factors: [totp(), recoveryCodes()], limits });
  const started = (await http.engine.factors.enrollStart(user, "totp", {}, undefined)) as {
    secret: string;
    factorId: string;
  };
  const epoch = Math.floor(Date.now() / 1000) - 30;
  await http.engine.factors.enrollConfirm(
    user,
    "totp",
    started.factorId,
    { code: await generate({ secret: started.secret, epoch }) },
    undefined,
  );
  const guard = http.guard({ resource: "admin", action: "read", label: "open the admin panel" });
  const request = new Request(`${origin}/admin`, {
    headers: { accept: HTML, referer: `${origin}/home?x=1` },
  });
  const outcome = await guard(request, { user });
  if (outcome.kind !== "step-up-required") throw new Error(`unexpected ${outcome.kind}`);
  const first = http.render(request, outcome);
  const cookie = (first.headers.getSetCookie()[0] ?? "").split(";")[0] ?? "";
  const page = await first.text();
  const id = outcome.opened.challenge.id;
  const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? "";
  const post = async (fields: Record<string, string>) => {
    const res = await http.handle(
      new Request(`${origin}/stepup/challenge/${id}`, {
        method: "POST",
        headers: {
          accept: HTML,
          origin,
          cookie,
          "content-type": "application/x-www-form-urlencoded",
          referer: `${origin}/admin`,
        },
        body: new URLSearchParams({ csrf, ...fields }).toString(),
      }),
      { user },
    );
    return { status: res.status, retryAfter: res.headers.get("retry-after"), html: await res.text() };
  };
  return { http, page, post, factorId: started.factorId };
}

describe("challenge page routes: waits, locks and Cancel", () => {
  it("the inline page names the label and cancels back to the referring page", async () => {
    const { page } = await setup(undefined);
    expect(page).toContain("You're about to <strong>open the admin panel</strong>.");
    expect(page).toContain('<a class="link-button" href="/home?x=1">Cancel</a>');
  });

  it("a guess inside the growing delay is a 429 whose page says when, and Cancel survives it", async () => {
    const { post, factorId } = await setup({ lockout: { delayAfter: 1 } });
    const wrong = { factor: "totp", factorId, code: "000000", cancel: "/home?x=1" };
    const first = await post(wrong);
    expect(first.status).toBe(400);
    expect(first.html).toContain("That code is not valid.");
    const second = await post(wrong);
    expect(second.status).toBe(429);
    expect(second.retryAfter).toBe("2");
    expect(second.html).toContain("<span data-stepup-retry>Try again in 2 seconds.</span>");
    expect(second.html).toContain('"retryAfter":2');
    expect(second.html).toContain('href="/home?x=1">Cancel</a>');
  });

  it("the locking guess shows the lock and the recovery form, not the error twice", async () => {
    const { post, factorId } = await setup({ lockout: { maxFailures: 2, delayAfter: 2 } });
    await post({ factor: "totp", factorId, code: "000000" });
    const locked = await post({ factor: "totp", factorId, code: "000000" });
    expect(locked.status).toBe(429);
    expect(locked.html).toContain("Verification is locked.");
    expect(locked.html).toContain('name="factor" value="recovery"');
    expect(locked.html).not.toContain('name="factor" value="totp"');
    expect(locked.html.match(/role="alert"/g)).toHaveLength(1);
  });
});

describe("cancelUrlFor: where Cancel may lead", () => {
  const http = testHttp();
  const at = (referer?: string, url = `${origin}/admin`) =>
    new Request(url, { headers: referer === undefined ? {} : { referer } });
  const challenge = { returnTo: "/admin" };

  it.each([
    ["a same-origin page", `${origin}/home?tab=1`, "/home?tab=1"],
    ["another site", "https://evil.example/", "/"],
    ["the same host on another port", "http://localhost:4000/home", "/"],
    ["the guarded URL itself (cancelling would reopen it)", `${origin}/admin`, "/"],
    ["a challenge page", `${origin}/stepup/challenge/abc`, "/"],
    ["no referer at all", undefined, "/"],
  ])("a referer from %s", (_what, referer, expected) => {
    expect(cancelUrlFor(http, at(referer), challenge)).toBe(expected);
  });

  it("behind a TLS-ending proxy, a referer from a trusted origin counts", () => {
    const proxied = { basePath: "/stepup", trustedOrigins: ["https://app.example"] };
    const request = new Request("http://app.example/admin", {
      headers: { referer: "https://app.example/home" },
    });
    expect(cancelUrlFor(proxied, request, challenge)).toBe("/home");
    expect(cancelUrlFor({ basePath: "/stepup" }, request, challenge)).toBe("/");
  });

  it("a carried field wins when it is a same-origin path; a foreign one falls back to the referer", () => {
    expect(cancelUrlFor(http, at(`${origin}/a`), challenge, "/b")).toBe("/b");
    for (const carried of [
      "//evil.example/x",
      "https://evil.example/",
      "/\\evil.example",
      "javascript:alert(1)",
    ]) {
      expect(cancelUrlFor(http, at(`${origin}/a`), challenge, carried)).toBe("/a");
    }
  });
});
