import { email, recoveryCodes, type Store, sms, totp } from "@stepup/core";
import { openApiDocument } from "@stepup/http";
import request from "supertest";
import { expect } from "vitest";
import { type Agent, type Demo, enrollTotp, type Res, signUp, startDemo } from "./demo.js";
import { type OpenApiChecker, openApiChecker } from "./openapi-check.js";

export const HTML = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8";

/** Express demos whose responses are checked against the document the first one serves. */
export interface CheckedDemos {
  /** The demo with its default options. */
  demo: Demo;
  checker: OpenApiChecker;
  /** Checks a response of /stepup against the document and returns it. */
  c(res: Res): Res;
  /** Checks a guarded demo route's response against the `Guard*` components and returns it. */
  g(res: Res): Res;
  /** Another demo (other limits, another store), closed with the rest. */
  start(options?: Parameters<typeof startDemo>[0]): Promise<Demo>;
  close(): Promise<void>;
}

/** Starts the demo, checks what it serves at /stepup/openapi.json, and builds the checker from it. */
export async function checkedDemos(): Promise<CheckedDemos> {
  const demos: Demo[] = [];
  const start = async (options: Parameters<typeof startDemo>[0] = {}) => {
    const started = await startDemo(options);
    demos.push(started);
    return started;
  };
  const demo = await start();
  const served = await request(demo.origin).get("/stepup/openapi.json");
  expect(served.status, served.text).toBe(200);
  // What the demo serves is the document of its configuration (without an origin: no passkeys).
  const factors = [totp(), email({ send: async () => {} }), sms({ send: async () => {} }), recoveryCodes()];
  expect(served.body).toEqual(openApiDocument({ basePath: "/stepup", factors }));
  const checker = await openApiChecker(served.body);
  checker.check(served);
  return {
    demo,
    checker,
    c(res) {
      checker.check(res);
      return res;
    },
    g(res) {
      checker.checkGuard(res);
      return res;
    },
    start,
    close: async () => {
      await Promise.all(demos.map((d) => d.close()));
    },
  };
}

/** A signed-up user with TOTP enrolled (their recovery codes too) on `app`. */
export async function enrolled(app: Demo) {
  const agent = app.agent();
  const email = await signUp(agent);
  const { factorId, secret, recoveryCodes } = await enrollTotp(agent);
  return { agent, email, factorId, secret, recoveryCodes };
}

export const openChallenge = (agent: Agent, resource = "data", action = "export") =>
  agent.post("/stepup/api/challenges").send({ resource, action });

export const verify = (agent: Agent, id: string, body: object) =>
  agent.post(`/stepup/api/challenges/${id}/verify`).send(body);

/** `store` with every call failing while `down()` says so (a Redis outage, as the engine sees it). */
export function failing(store: Store, down: () => boolean): Store {
  const wrapped: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(store)) {
    wrapped[key] =
      typeof value === "function"
        ? (...args: unknown[]) =>
            down() ? Promise.reject(new Error("store down")) : value.apply(store, args)
        : value;
  }
  return wrapped as unknown as Store;
}
