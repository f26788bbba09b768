// Drift in the WebAuthn parts of the OpenAPI document: the registration and assertion options
// @simplewebauthn generates, and the bodies the server reads, checked against the document on real
// responses of the Express demo with passkeys on (a software authenticator answers the ceremonies).
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { email, memoryStore, recoveryCodes, sms, totp, webauthn } from "@stepup/core";
import { createDemoApp } from "@stepup/example-express";
import { openApiDocument } from "@stepup/http";
import request from "supertest";
import { describe, expect, it, onTestFinished } from "vitest";
import { softAuthenticator } from "../packages/core/test/soft-authenticator.js";
import { expectProblem, SESSION_SECRET, STEPUP_SECRET, signUp } from "./support/demo.js";
import { openApiChecker } from "./support/openapi-check.js";

const verify = (agent: request.Agent, id: string, body: object) =>
  agent.post(`/stepup/api/challenges/${id}/verify`).send(body);

describe("WebAuthn answers as documented (a demo with every factor)", () => {
  it("enroll a security key (start, confirm), then start and verify a phishing-resistant challenge with it", async () => {
    // Passkeys are bound to an origin the demo knows before it listens: its port is picked first.
    const server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const port = (server.address() as AddressInfo).port;
    const origin = `http://localhost:${port}`;
    const app = createDemoApp({
      store: memoryStore(),
      sessionSecret: SESSION_SECRET,
      stepupSecret: STEPUP_SECRET,
      origin,
      rpID: "localhost",
    });
    server.on("request", app);
    onTestFinished(() => closeServer(server));
    const agent = request
      .agent(`http://127.0.0.1:${port}`)
      .set("host", `localhost:${port}`)
      .set("origin", origin);

    const served = await agent.get("/stepup/openapi.json");
    const every = [
      totp(),
      webauthn({ rpID: "localhost", origins: [origin] }),
      email({ send: async () => {} }),
      sms({ send: async () => {} }),
      recoveryCodes(),
    ];
    expect(served.body).toEqual(openApiDocument({ basePath: "/stepup", factors: every }));
    const checker = await openApiChecker(served.body);
    checker.check(served);
    const w = (res: request.Response) => {
      checker.check(res);
      return res;
    };

    await signUp(agent);
    const key = softAuthenticator({ rpID: "localhost", origin });
    const started = w(
      await agent.post("/stepup/api/factors/webauthn").send({ authenticatorAttachment: "cross-platform" }),
    );
    expect(started.status, started.text).toBe(201);
    const { factorId, options } = started.body;
    const confirmed = w(
      await agent
        .post(`/stepup/api/factors/webauthn/${factorId}/confirm`)
        .send({ response: key.register(options) }),
    );
    expect(confirmed.status, confirmed.text).toBe(200);
    expect(confirmed.body.factor).toMatchObject({ id: factorId, type: "webauthn", name: "Security key" });

    const vault = await agent.get("/vault").set("accept", "application/json");
    checker.checkGuard(vault);
    const problem = expectProblem(vault, 401, "step_up_required");
    const id = String(problem.challengeId);
    const assertion = w(
      await agent.post(`/stepup/api/challenges/${id}/start`).send({ factor: "webauthn", factorId }),
    );
    expect(assertion.status, assertion.text).toBe(200);
    const response = key.authenticate(assertion.body.options);
    const verified = w(
      await verify(agent, id, {
        factor: "webauthn",
        factorId: assertion.body.factorIds[response.id],
        response,
      }),
    );
    expect(verified.body).toMatchObject({ success: true, resource: "vault", action: "open" });
    expect(checker.seen).toHaveLength(6);
  });
});

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
}
