// Attack: logout called with nobody signed in. The app's logout route runs for anyone, so a request
// with no app session but someone else's step-up cookie (planted, leaked, or sent by a cross-site
// form) must not end that person's step-up session, and an anonymous flood of logouts must not cost
// an unseal and a store write each. With no user, `clear` only returns the deleting Set-Cookie.
import { memoryStore, type Store } from "@stepup/core";
import * as iron from "iron-session";
import { describe, expect, it, vi } from "vitest";
import { testHttp } from "../test/helpers.js";

vi.mock("iron-session", async (importOriginal) => {
  const actual = await importOriginal<typeof import("iron-session")>();
  return { ...actual, unsealData: vi.fn(actual.unsealData) };
});

const unseal = vi.mocked(iron.unsealData);

/** A memory store that counts every call made to it. */
function countingStore(): { store: Store; calls: () => number; reset: () => void } {
  const inner = memoryStore() as unknown as Record<string, unknown>;
  let calls = 0;
  const wrapped: Record<string, unknown> = {};
  for (const key of Object.keys(inner)) {
    const value = inner[key];
    wrapped[key] =
      typeof value === "function"
        ? (...args: unknown[]) => {
            calls++;
            return value.apply(inner, args);
          }
        : value;
  }
  const store = wrapped as unknown as Store;
  const reset = () => {
    calls = 0;
  };
  return { store, calls: () => calls, reset };
}

async function aliceWithCookie() {
  const counted = countingStore();
  const revoked: string[] = [];
  const http = testHttp({ store: counted.store, onEvent: (e) => void revoked.push(`${e.type}:${e.userId}`) });
  const guard = http.guard({ resource: "admin", action: "read" });
  const outcome = await guard(new Request("http://localhost:3000/admin"), { user: { id: "alice" } });
  if (outcome.kind !== "step-up-required") throw new Error(`expected a step-up, got ${outcome.kind}`);
  const stepup = outcome.cookies.map((c) => `${c.name}=${c.value}`)[0] ?? "";
  expect(stepup).toMatch(/^stepup=Fe26\.2\*/);
  const logout = new Request("http://localhost:3000/logout", { method: "POST", headers: { cookie: stepup } });
  counted.reset();
  unseal.mockClear();
  revoked.length = 0;
  return { http, logout, counted, revoked };
}

describe("clear: logout with nobody signed in", () => {
  it("does not unseal the cookie, touch the store or end the session it names", async () => {
    const { http, logout, counted, revoked } = await aliceWithCookie();
    const setCookie = await http.clear(logout, undefined);
    expect(setCookie).toMatch(/^stepup=; Path=\/; .*Max-Age=0/);
    expect(unseal).not.toHaveBeenCalled();
    expect(counted.calls()).toBe(0);
    expect(revoked).toEqual([]);
  });

  it("control: the signed-in owner's logout does end the session in the store", async () => {
    const { http, logout, counted, revoked } = await aliceWithCookie();
    expect(await http.clear(logout, "alice")).toMatch(/^stepup=; /);
    expect(counted.calls()).toBeGreaterThan(0);
    expect(revoked).toEqual(["session.revoked:alice"]);
  });

  it("another signed-in user's logout leaves the cookie's owner alone", async () => {
    const { http, logout, counted, revoked } = await aliceWithCookie();
    await http.clear(logout, "mallory");
    expect(counted.calls()).toBe(0);
    expect(revoked).toEqual([]);
  });
});
