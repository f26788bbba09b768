// The adapter through Next's own calling convention: `new Request()` into the route handler, and a
// Server Action guard fed the headers Next would give it.
import { memoryStore, totp } from "@stepup/core";
import { describe, expect, it } from "vitest";
import { createStepUp } from "./create-step-up.js";
import type { ActionRequestApi } from "./guard-action.js";

const SECRET = "unit-test-secret-0123456789abcdef-0123456789";
const ORIGIN = "http://localhost:3000";

function setup(user: { id: string } | null = { id: "u1" }) {
  const set: { name: string; value: string; options: Record<string, unknown> }[] = [];
  let incoming: Record<string, string> = {};
  const api: ActionRequestApi = {
    headers: async () => new Headers(incoming),
    cookies: async () => ({
      set: (name: string, value: string, options: Record<string, unknown>) =>
        set.push({ name, value, options }),
    }),
  };
  const stepup = createStepUp(
    { store: memoryStore(), secret: SECRET, appName: "Test", factors: [totp()], getUser: () => user },
    api,
  );
  return {
    stepup,
    set,
    actionHeaders: (h: Record<string, string>) => {
      incoming = h;
    },
  };
}

const json = (path: string, headers: Record<string, string> = {}) =>
  new Request(`${ORIGIN}${path}`, { headers: { accept: "application/json", ...headers } });

describe("withStepUp", () => {
  it("answers 401 step_up_required and never runs the handler when not fresh", async () => {
    const { stepup } = setup();
    let ran = false;
    const GET = stepup.withStepUp(
      () => {
        ran = true;
        return Response.json({ ok: true });
      },
      { resource: "data", action: "export", maxAge: 300 },
    );
    const res = await GET(json("/api/export"), {});
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe("step_up_required");
    expect(ran).toBe(false);
  });

  it("still guards a request carrying x-middleware-subrequest (no proxy.ts bypass)", async () => {
    const { stepup } = setup();
    const GET = stepup.withStepUp(() => Response.json({ ok: true }), {
      resource: "data",
      action: "export",
      maxAge: 300,
    });
    for (const value of ["middleware", "proxy:proxy:proxy:proxy:proxy", "src/middleware"]) {
      const res = await GET(json("/api/export", { "x-middleware-subrequest": value }), {});
      expect(res.status).toBe(401);
    }
  });

  it("answers 401 unauthenticated without a user", async () => {
    const { stepup } = setup(null);
    const GET = stepup.withStepUp(() => Response.json({}), {
      resource: "data",
      action: "export",
      maxAge: 300,
    });
    const res = await GET(json("/api/export"), {});
    expect(res.status).toBe(401);
    expect(((await res.json()) as { error: string }).error).toBe("unauthenticated");
  });

  it("lets Next's redirect()/notFound() errors from getUser through untouched", async () => {
    for (const digest of ["NEXT_REDIRECT;replace;/login;307;", "NEXT_HTTP_ERROR_FALLBACK;404"]) {
      const thrown = Object.assign(new Error(digest), { digest });
      const stepup = createStepUp(
        {
          store: memoryStore(),
          secret: SECRET,
          appName: "Test",
          factors: [totp()],
          getUser: () => {
            throw thrown;
          },
        },
        { shared: false },
      );
      const GET = stepup.withStepUp(() => Response.json({}), { resource: "a", action: "b", maxAge: 60 });
      await expect(GET(json("/x"), {})).rejects.toBe(thrown);
      await expect(stepup.handlers.GET(json("/stepup/api/factors"))).rejects.toBe(thrown);
    }
  });

  it("turns other getUser failures into a 500 with no details (fail closed)", async () => {
    const stepup = createStepUp(
      {
        store: memoryStore(),
        secret: SECRET,
        appName: "Test",
        factors: [totp()],
        logger: { error() {}, warn() {}, info() {} },
        getUser: () => {
          throw new Error("db down at /srv/app.js:12");
        },
      } as Parameters<typeof createStepUp>[0],
      { shared: false },
    );
    const GET = stepup.withStepUp(() => Response.json({}), { resource: "a", action: "b", maxAge: 60 });
    const res = await GET(json("/x"), {});
    expect(res.status).toBe(500);
    expect(await res.text()).not.toContain("srv");
  });
});

describe("handlers", () => {
  it("serve the /stepup API", async () => {
    const { stepup } = setup();
    const res = await stepup.handlers.GET(json("/stepup/api/factors"));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ factors: [] });
  });
});

describe("guardAction", () => {
  const opts = { resource: "account", action: "delete", maxAge: 300 };

  it("refuses a missing Origin", async () => {
    const { stepup, actionHeaders } = setup();
    actionHeaders({ host: "localhost:3000" });
    expect(await stepup.guardAction(opts)).toEqual({ ok: false, error: "origin_mismatch" });
  });

  it("refuses a foreign Origin", async () => {
    const { stepup, actionHeaders } = setup();
    actionHeaders({ host: "localhost:3000", origin: "https://evil.example" });
    expect(await stepup.guardAction(opts)).toEqual({ ok: false, error: "origin_mismatch" });
  });

  it("answers stepUpRequired with an open challenge and sets the new step-up cookie via cookies()", async () => {
    const { stepup, actionHeaders, set } = setup();
    actionHeaders({ host: "localhost:3000", origin: ORIGIN, accept: "text/x-component" });
    const result = await stepup.guardAction(opts);
    expect(result.ok).toBe(false);
    if (result.ok || !("stepUpRequired" in result)) throw new Error("expected stepUpRequired");
    expect(result.stepUpRequired).toMatchObject({ resource: "account", action: "delete", maxAge: 300 });
    expect(result.stepUpRequired.challengeId).toMatch(/\S+/);
    expect(JSON.parse(JSON.stringify(result))).toEqual(result);
    expect(set.map((c) => c.name)).toEqual(["stepup"]);
    expect(set[0]?.options).toMatchObject({ httpOnly: true, path: "/", sameSite: "lax" });
  });

  it("answers unauthenticated without a user", async () => {
    const { stepup, actionHeaders } = setup(null);
    actionHeaders({ host: "localhost:3000", origin: ORIGIN });
    expect(await stepup.guardAction(opts)).toEqual({ ok: false, error: "unauthenticated" });
  });
});

describe("client address (per-address guessing limits)", () => {
  // Attack: writing your own X-Forwarded-For to get a new per-address budget on every request.
  function seen(options: { trustProxy?: boolean | number; clientIp?: (r: Request) => string | undefined }) {
    const ips: (string | undefined)[] = [];
    const warnings: string[] = [];
    const stepup = createStepUp(
      {
        store: memoryStore(),
        secret: SECRET,
        appName: "Test",
        factors: [totp()],
        getUser: () => ({ id: "u1" }),
        logger: { warn: (m: string) => void warnings.push(m), error() {} },
        policy: ({ ip }) => {
          ips.push(ip);
          return "CHALLENGE";
        },
        ...options,
      },
      { shared: false },
    );
    return { stepup, ips, warnings };
  }

  it("trustProxy takes the hop the trusted proxy wrote (right-most), never the client's first entry", async () => {
    const { stepup, ips, warnings } = seen({ trustProxy: 1 });
    const GET = stepup.withStepUp(() => Response.json({}), { resource: "a", action: "b" });
    await GET(json("/x", { "x-forwarded-for": "6.6.6.6, 203.0.113.7" }), {});
    const two = seen({ trustProxy: 2 });
    const GET2 = two.stepup.withStepUp(() => Response.json({}), { resource: "a", action: "b" });
    await GET2(json("/x", { "x-forwarded-for": "6.6.6.6, 203.0.113.7, 10.0.0.2" }), {});
    expect([...ips, ...two.ips]).toEqual(["203.0.113.7", "203.0.113.7"]);
    expect(warnings).toEqual([]);
  });

  it("without trustProxy or clientIp the start-up says the per-address limit is off; clientIp wins", async () => {
    const quiet = seen({});
    void quiet.stepup.http; // the instance is built (and warns) on first use
    expect(quiet.warnings.join()).toMatch(/client address is unknown.*trustProxy.*clientIp/);
    const custom = seen({ trustProxy: 1, clientIp: (r) => r.headers.get("x-real-ip") ?? undefined });
    const GET = custom.stepup.withStepUp(() => Response.json({}), { resource: "a", action: "b" });
    await GET(json("/x", { "x-real-ip": "198.51.100.4", "x-forwarded-for": "1.1.1.1" }), {});
    expect(custom.ips).toEqual(["198.51.100.4"]);
    expect(() => seen({ trustProxy: 0 }).stepup.http).toThrow(/trustProxy/);
  });
});

describe("Server Action origin", () => {
  it("compares the whole origin: https://host is not http://host", async () => {
    const { stepup, actionHeaders } = setup();
    actionHeaders({ host: "localhost:3000", origin: "https://localhost:3000" });
    expect(await stepup.guardAction({ resource: "a", action: "b" })).toEqual({
      ok: false,
      error: "origin_mismatch",
    });
  });
});

// Attack: an unbounded body read before the handler. withStepUp reads a form post's fields (to
// re-submit them after the step-up) and hands `transaction` a copy of the request, before the
// guard runs, for anyone signed in or not. Read without a limit, one request streaming gigabytes
// (no Content-Length, or a lying one) would be buffered whole. What the adapter reads is capped at
// 64 KiB, counted as it streams, like Express's body limit: over it, 413 `payload_too_large`, and
// neither the transaction callback nor the handler runs.
describe("withStepUp: bodies read before the handler are capped", () => {
  const CHUNK = new TextEncoder().encode("a=".padEnd(16 * 1024, "x"));

  /** A 3.2 MB body streamed in 16 KiB chunks, counting how many the reader pulled. */
  function bigBody() {
    let pulled = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        if (pulled > 200) controller.close();
        else controller.enqueue(CHUNK);
      },
    });
    return { stream, pulled: () => pulled };
  }

  const post = (body: BodyInit, headers: Record<string, string>) =>
    new Request(`${ORIGIN}/api/transfer`, {
      method: "POST",
      body,
      headers: { accept: "application/json", ...headers },
      duplex: "half",
    } as RequestInit);

  async function expectTooLarge(res: Response): Promise<void> {
    expect(res.status).toBe(413);
    expect(res.headers.get("content-type")).toContain("application/problem+json");
    expect(((await res.json()) as { error: string }).error).toBe("payload_too_large");
  }

  it("a form post streamed without Content-Length: 413 after 64 KiB, the handler does not run", async () => {
    const { stepup } = setup();
    let ran = false;
    const POST = stepup.withStepUp(
      () => {
        ran = true;
        return Response.json({});
      },
      { resource: "data", action: "export", maxAge: 300 },
    );
    const body = bigBody();
    await expectTooLarge(
      await POST(post(body.stream, { "content-type": "application/x-www-form-urlencoded" }), {}),
    );
    expect(body.pulled()).toBeLessThan(10); // stopped early: did not buffer 3 MB
    expect(ran).toBe(false);
  });

  it("a Content-Length declaring more than 64 KiB is refused before reading", async () => {
    const { stepup } = setup();
    const POST = stepup.withStepUp(() => Response.json({}), {
      resource: "data",
      action: "export",
      maxAge: 300,
    });
    const body = bigBody();
    const res = await POST(
      post(body.stream, {
        "content-type": "application/x-www-form-urlencoded",
        "content-length": String(3 * 1024 * 1024),
      }),
      {},
    );
    await expectTooLarge(res);
    expect(body.pulled()).toBeLessThan(10);
  });

  it("with a transaction function: 413 for a large JSON body; neither the callback nor the handler runs", async () => {
    const { stepup } = setup();
    let calls = 0;
    let ran = false;
    const POST = stepup.withStepUp(
      () => {
        ran = true;
        return Response.json({});
      },
      {
        resource: "payment",
        action: "transfer",
        match: "transaction",
        transaction: async (request) => {
          calls++;
          return (await request.text()).length;
        },
      },
    );
    const body = bigBody();
    await expectTooLarge(await POST(post(body.stream, { "content-type": "application/json" }), {}));
    expect(body.pulled()).toBeLessThan(10);
    expect(calls).toBe(0);
    expect(ran).toBe(false);
  });

  it("control: under the cap, the callback gets the bytes and the handler still gets the body", async () => {
    const stepup = createStepUp(
      {
        store: memoryStore(),
        secret: SECRET,
        appName: "Test",
        factors: [totp()],
        getUser: () => ({ id: "u1" }),
        policy: () => "ALLOW", // waives session rules (not transaction rules): the handler runs
        logger: { warn() {}, error() {} },
      },
      { shared: false },
    );
    const note = "x".repeat(60 * 1024);
    let seen = "";
    const transfer = stepup.withStepUp(() => Response.json({}), {
      resource: "payment",
      action: "transfer",
      match: "transaction",
      transaction: async (request) => {
        seen = await request.text();
        return JSON.parse(seen) as unknown;
      },
    });
    const sent = JSON.stringify({ amount: 100, to: "bob", note });
    const res = await transfer(post(sent, { "content-type": "application/json" }), {});
    expect(((await res.json()) as { error: string }).error).toBe("step_up_required");
    expect(seen).toBe(sent);

    const save = stepup.withStepUp(async (request) => Response.json({ got: await request.text() }), {
      resource: "profile",
      action: "save",
    });
    const form = `note=${note}`;
    const saved = await save(post(form, { "content-type": "application/x-www-form-urlencoded" }), {});
    expect(saved.status).toBe(200);
    expect(((await saved.json()) as { got: string }).got).toBe(form);
  });
});

describe("one instance per process, built on first use", () => {
  // Threat/bug: Next evaluates the module that calls createStepUp once per bundle (route handlers
  // and Server Actions are bundled apart): with memoryStore() that was two stores, and a user who
  // enrolled through /stepup/api was told in a Server Action's dialog that no factor was set up.
  const base = (basePath: string, store = memoryStore()) => ({
    store,
    secret: SECRET,
    appName: "Test",
    factors: [totp()],
    basePath,
    getUser: () => ({ id: "u1" }),
    logger: { warn() {}, error() {} },
  });

  it("two createStepUp() calls for one basePath share the engine and the store", async () => {
    const inRoutes = createStepUp(base("/share-a"));
    const inActions = createStepUp(base("/share-a")); // a second bundle: its own memoryStore()
    const started = await inRoutes.handlers.POST(
      new Request(`${ORIGIN}/share-a/api/factors/totp`, {
        method: "POST",
        headers: { origin: ORIGIN, "content-type": "application/json" },
        body: "{}",
      }),
    );
    expect(started.status).toBe(201);
    expect(inActions.http).toBe(inRoutes.http);
    expect(inActions.http.engine.config.store).toBe(inRoutes.http.engine.config.store);
  });

  it("nothing is required at build time: no secret until the first request, which then names the option", async () => {
    const errors: unknown[] = [];
    const original = console.error;
    console.error = (...args: unknown[]) => void errors.push(args.join(" "));
    try {
      const stepup = createStepUp({ ...base("/build-time"), secret: undefined as unknown as string });
      const GET = stepup.withStepUp(() => Response.json({ ok: true }), { resource: "a", action: "b" });
      const res = await GET(json("/x"), {});
      expect(res.status).toBe(500);
      expect(errors.join()).toMatch(/option `secret`/);
    } finally {
      console.error = original;
    }
  });

  it("two registrations of one basePath that disagree throw on first use, naming what differs", () => {
    const first = createStepUp(base("/share-b"));
    void first.http;
    const second = createStepUp({ ...base("/share-b"), secret: `${SECRET}-other` });
    expect(() => second.http).toThrow(/basePath \/share-b with a different `secret`/);
  });

  it("misuse of withStepUp and guardAction throws at once, naming the fix", async () => {
    const stepup = createStepUp(base("/misuse"));
    expect(() => stepup.withStepUp(() => Response.json({}), {} as never)).toThrow(/`resource` and `action`/);
    const transfer = stepup.withStepUp(() => Response.json({}), {
      resource: "payment",
      action: "transfer",
      match: "transaction",
    });
    const logged: unknown[] = [];
    const stepup2 = createStepUp({
      ...base("/misuse-2"),
      logger: { warn() {}, error: (m: string) => void logged.push(m) },
    });
    const transfer2 = stepup2.withStepUp(() => Response.json({}), {
      resource: "payment",
      action: "transfer",
      match: "transaction",
    });
    expect((await transfer(json("/t"), {})).status).toBe(500);
    expect((await transfer2(json("/t"), {})).status).toBe(500);
    expect(logged.join()).toMatch(/match "transaction" but no `transaction` function/);
  });
});
