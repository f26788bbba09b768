// Attack: cookie tossing. A sibling subdomain (evil.app.example setting Domain=app.example) or a
// network attacker answering one plain-http request can set a cookie named `stepup` for our host,
// with a longer Path so the browser sends it first. Read under that name, it would fix the victim's
// step-up session to one the attacker chose, or shadow the real one. A Secure step-up cookie is
// named `__Host-stepup`, which browsers only keep when set Secure, host-only and Path=/ by this
// host; the plain name is read only where the cookie is not Secure (local http, `secure: false`).
import { describe, expect, it } from "vitest";
import { testHttp } from "../test/helpers.js";
import { createSessionCookie } from "./session-cookie.js";

const options = { name: "stepup", ttlSeconds: 3600, path: "/", sameSite: "Lax" as const };
const secrets = ["a".repeat(32)];
const https = new URL("https://app.example/account");
const local = new URL("http://localhost:3000/account");
const pair = (setCookie: string) => setCookie.split(";")[0] ?? "";
const sealOf = (setCookie: string) => pair(setCookie).slice(pair(setCookie).indexOf("=") + 1);

describe("step-up cookie: cookie tossing", () => {
  it("on https only __Host-stepup is read; a plain stepup cookie is ignored, even sent first", async () => {
    const cookie = createSessionCookie({ ...options, secrets });
    const planted = sealOf(await cookie.issue({ sid: "fixed", uid: "alice" }, https));
    const real = sealOf(await cookie.issue({ sid: "real", uid: "alice" }, https));
    let urlReads = 0;
    const request = {
      get url() {
        urlReads++;
        return https.href;
      },
    };
    const now = Date.now();
    const both = `stepup=${planted}; __Host-stepup=${real}`;
    expect(await cookie.read(both, now, request)).toEqual({ sid: "real", uid: "alice" });
    expect(cookie.peek(both, now, request)).toEqual({ sid: "real", uid: "alice" });
    expect(urlReads).toBe(0); // the production path never builds the request URL
    expect(await cookie.read(`stepup=${planted}`, now, request)).toBeUndefined();
    expect(cookie.peek(`stepup=${planted}`, now, request)).toBeNull();
  });

  it("the plain name is read on local http and with secure: false; never with secure: true", async () => {
    const plain = (c: ReturnType<typeof createSessionCookie>) => c.issue({ sid: "s", uid: "alice" }, local);
    const byDefault = createSessionCookie({ ...options, secrets });
    const header = pair(await plain(byDefault));
    expect(header).toMatch(/^stepup=/);
    expect(await byDefault.read(header, Date.now(), { url: local.href })).toEqual({ sid: "s", uid: "alice" });
    expect(await byDefault.read(header, Date.now(), { url: "http://127.0.0.1:3000/" })).toBeDefined();
    expect(
      await byDefault.read(header, Date.now(), { url: "http://localhost.evil.example/" }),
    ).toBeUndefined();
    expect(await byDefault.read(header, Date.now())).toBeUndefined(); // no request: assume Secure

    const insecure = createSessionCookie({ ...options, secure: false, secrets });
    expect(await insecure.read(pair(await plain(insecure)), Date.now(), { url: https.href })).toBeDefined();

    const secure = createSessionCookie({ ...options, secure: true, secrets });
    const issued = await plain(secure);
    expect(issued).toMatch(/^__Host-stepup=.*; Secure$/);
    const tossed = `stepup=${sealOf(issued)}`;
    expect(await secure.read(tossed, Date.now(), { url: local.href })).toBeUndefined();
    expect(await secure.read(pair(issued), Date.now(), { url: local.href })).toBeDefined();
  });

  it("through the guard: a plain-named cookie on https does not fix the session; __Host- does carry it", async () => {
    const http = testHttp();
    const guard = http.guard({ resource: "admin", action: "read" });
    /** The Set-Cookie headers of the guard's step-up-required answer. */
    const get = async (cookie?: string) => {
      const request = new Request(https, { headers: cookie ? { cookie } : {} });
      const outcome = await guard(request, { user: { id: "alice" } });
      if (outcome.kind !== "step-up-required") throw new Error(`expected a step-up, got ${outcome.kind}`);
      return http.render(request, outcome).headers.getSetCookie();
    };
    const [issued = ""] = await get();
    expect(issued).toMatch(/^__Host-stepup=Fe26.*; Secure$/);
    expect(await get(pair(issued))).toEqual([]); // the same session: no new cookie
    const [renewed = ""] = await get(`stepup=${sealOf(issued)}`); // tossed: a new session instead
    expect(renewed).toMatch(/^__Host-stepup=/);
    expect(sealOf(renewed)).not.toBe(sealOf(issued));
  });

  it("logout deletes the name in use for the request", async () => {
    const http = testHttp();
    const clearing = (url: URL) => http.clearCookie(new Request(url));
    expect(clearing(https)).toMatch(/^__Host-stepup=; Path=\/; .*Max-Age=0; Secure$/);
    expect(clearing(local)).toMatch(/^stepup=; Path=\/; .*Max-Age=0$/);
    expect(await http.clear(new Request(https), "alice")).toMatch(/^__Host-stepup=; /);
  });
});
