// Attack: fuzzing the factors' own ceremonies on both adapters (the Express demo over HTTP, the
// Next adapter in process), with two users who each have TOTP, a security key (a software
// authenticator producing real WebAuthn output), an email address and a phone number, the codes
// going through a real SMTP server and a real SMS webhook:
// - WebAuthn assertions to the caller's own challenge: the real response of its key, bent field by
//   field (garbage of every type, base64url bent, fields dropped or duplicated, client data and
//   authenticator data changed and re-signed with the real key: wrong type, challenge, origin,
//   RP ID hash, flags, counter), another key's, a stale one, or fully random;
// - WebAuthn registration of a newcomer's first factor, bent the same way and at the CBOR level (one
//   thing in the attestation object changed: format, statement, entries, and in the authenticator
//   data the RP ID hash, flags, counter, AAGUID, credential id and its length, the COSE key's every
//   label), and of a second factor with and without the step-up adding one asks for; a key that
//   registered then steps up (no lockout);
// - email and SMS codes on a challenge: sends and resends naming the factor every way (API and the
//   page's form), verifications with the code that was sent in every spelling, another user's
//   code, or anything;
// - enrolling addresses and numbers with header injections, control characters, Unicode and
//   overlong values, then confirming with codes of every shape.
// Every response: no 5xx, problem+json with a known code for API errors, no secret and no sent
// code echoed. A grant (a verification, an enrolment) only after a step that carried the real proof;
// at least one such step granted (the fuzzing reaches the checks). What the SMTP server and the
// webhook receive: one recipient, no injected header, one E.164 number, one line.
//
// STEPUP_FUZZ_RUNS sets the runs (npm run fuzz: 2000, a tenth of it here: each run sends mail);
// replay a failure with STEPUP_FUZZ_SEED=<seed> STEPUP_FUZZ_PATH=<path>.

import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { email, memoryStore, recoveryCodes, type StepUpEvent, sms, totp, webauthn } from "@stepup/core";
import { createDemoApp } from "@stepup/example-express";
import { DEV_TOKEN_KEY, sendersFromEnv } from "@stepup/example-shared";
import { createStepUp } from "@stepup/next";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Channels, startChannels } from "./support/codes.js";
import { PASSWORD, SESSION_SECRET, STEPUP_SECRET, uniqueEmail } from "./support/demo.js";
import { fuzzTimeout } from "./support/fuzz.js";
import {
  type CeremonyFixture,
  ceremonyFixture,
  codeEnrolmentProperty,
  codeFactorsProperty,
  webauthnAssertionsProperty,
  webauthnRegistrationProperty,
  webauthnSecondRegistrationProperty,
} from "./support/fuzz-ceremonies.js";
import { Client, httpTarget, nextTarget, spyStore } from "./support/fuzz-fixture.js";

/** Runs per property in `npm test`, and the share of STEPUP_FUZZ_RUNS they get in `npm run fuzz`. */
const ASSERTION_RUNS = 30;
const REGISTRATION_RUNS = 20;
const SECOND_REGISTRATION_RUNS = 16;
const CODE_RUNS = 16;
const ENROL_RUNS = 12;
const SCALE = 0.1;

const GUARDED = [{ method: "GET", path: "/api/export" }];
const RULES = ["resource=data&action=export"];
const KEY_BODY = DEV_TOKEN_KEY.split("\n")[1] ?? DEV_TOKEN_KEY;

/** The properties, the same for each adapter. */
function properties(fixture: () => CeremonyFixture) {
  it(
    "WebAuthn assertions, real ones bent field by field or random: a grant only for a real one",
    () => webauthnAssertionsProperty(fixture(), ASSERTION_RUNS, SCALE),
    fuzzTimeout(ASSERTION_RUNS, 200, SCALE),
  );
  it(
    "WebAuthn registrations of a first factor, bent: enrolled only when nothing checked was changed, and it steps up",
    () => webauthnRegistrationProperty(fixture(), REGISTRATION_RUNS, SCALE),
    fuzzTimeout(REGISTRATION_RUNS, 200, SCALE),
  );
  it(
    "WebAuthn registrations of a second factor, bent: never without the step-up, with it as a first",
    () => webauthnSecondRegistrationProperty(fixture(), SECOND_REGISTRATION_RUNS, SCALE),
    fuzzTimeout(SECOND_REGISTRATION_RUNS, 300, SCALE),
  );
  it(
    "email and SMS codes on a challenge: a grant only with the code that was sent, for that factor",
    () => codeFactorsProperty(fixture(), CODE_RUNS, SCALE),
    fuzzTimeout(CODE_RUNS, 1500, SCALE),
  );
  it(
    "enrolling hostile addresses and numbers: one recipient, no injected header, enrolled only with the code sent",
    () => codeEnrolmentProperty(fixture(), ENROL_RUNS, SCALE),
    fuzzTimeout(ENROL_RUNS, 1500, SCALE),
  );
}

describe("fuzzing the factors' ceremonies: the Express demo", () => {
  let f: CeremonyFixture;
  let channels: Channels;
  let server: Server;

  beforeAll(async () => {
    channels = await startChannels();
    // Passkeys are bound to an origin the demo knows before it listens: the port is picked first.
    server = createServer();
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    const port = (server.address() as AddressInfo).port;
    const webauthnOrigin = `http://localhost:${port}`;
    const store = spyStore(memoryStore());
    const events: StepUpEvent[] = [];
    const app = createDemoApp({
      store,
      sessionSecret: SESSION_SECRET,
      stepupSecret: STEPUP_SECRET,
      origin: webauthnOrigin,
      rpID: "localhost",
      senders: sendersFromEnv(channels.env),
      onEvent: (e) => {
        events.push(e);
      },
    });
    server.on("request", app);
    const target = httpTarget(`http://127.0.0.1:${port}`, "demo_session");
    f = await ceremonyFixture({
      target,
      async signUp() {
        const client = new Client(target);
        const address = uniqueEmail("fuzz");
        const res = await client.call("POST", "/signup", { json: { email: address, password: PASSWORD } });
        expect(res.status, res.text).toBe(201);
        return { id: String(res.json.id), session: client.jar.get("demo_session") ?? "", email: address };
      },
      store,
      events,
      channels,
      rpID: "localhost",
      webauthnOrigin,
      stepupSecret: STEPUP_SECRET,
      secrets: [SESSION_SECRET, STEPUP_SECRET, KEY_BODY],
      guarded: GUARDED,
      rules: RULES,
    });
  }, 60_000);

  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
    await channels?.close();
  });

  properties(() => f);
});

describe("fuzzing the factors' ceremonies: the Next adapter", () => {
  const ORIGIN = "http://localhost:3000";
  let f: CeremonyFixture;
  let channels: Channels;
  /** What stepup logged as an error: an unexpected one is a 500 the response may have hidden. */
  const logged: string[] = [];

  beforeAll(async () => {
    channels = await startChannels();
    const store = spyStore(memoryStore());
    const events: StepUpEvent[] = [];
    const users = new Map<string, { id: string; email: string }>();
    const senders = sendersFromEnv(channels.env);
    const stepup = createStepUp(
      {
        store,
        secret: STEPUP_SECRET,
        appName: "Fuzz (Next)",
        factors: [
          totp(),
          webauthn({ rpID: "localhost", origins: [ORIGIN] }),
          email(senders.email),
          sms(senders.sms),
          recoveryCodes(),
        ],
        getUser: (request) => {
          const token = /(?:^|;\s*)app_session=([^;]*)/.exec(request.headers.get("cookie") ?? "")?.[1];
          return (token && users.get(token)) || null;
        },
        rules: { "data:export": { label: "export your data", maxAge: 300, allowTrustedDevice: true } },
        onEvent: (e) => {
          events.push(e);
        },
        logger: {
          warn: () => {},
          error: (message, meta) => {
            logged.push(`${message} ${JSON.stringify(meta ?? {})}`);
          },
        },
      },
      { shared: false },
    );
    const exportRoute = stepup.withStepUp(async () => Response.json({ exported: true }), {
      resource: "data",
      action: "export",
    });
    const target = nextTarget(ORIGIN, stepup.handlers, { "/api/export": { get: (r) => exportRoute(r, {}) } });
    f = await ceremonyFixture({
      target,
      async signUp() {
        const session = randomBytes(16).toString("base64url");
        const id = `u-${randomBytes(6).toString("hex")}`;
        const address = `${id}@example.com`;
        users.set(session, { id, email: address });
        return { id, session, email: address };
      },
      store,
      events,
      channels,
      rpID: "localhost",
      webauthnOrigin: ORIGIN,
      stepupSecret: STEPUP_SECRET,
      secrets: [STEPUP_SECRET],
      guarded: GUARDED,
      rules: RULES,
      alsoCheck() {
        // (Each step's own: taken off the list, so a replayed or shrunk run starts clean.)
        const unexpected = logged.splice(0).filter((l) => !l.startsWith("stepup received"));
        expect(unexpected, "stepup logged an unexpected error").toEqual([]);
      },
    });
  }, 60_000);

  afterAll(async () => {
    await channels?.close();
  });

  properties(() => f);
});
