import { describe, expect, it } from "vitest";
import { webauthn } from "../webauthn.js";
import type { WebAuthnOptions } from "./options.js";

// Misconfiguration must fail at start-up, naming the option, rather than produce a factor whose
// every ceremony fails (or one that trusts an origin it should not).

const good: WebAuthnOptions = { rpID: "example.com", origins: ["https://app.example.com"] };

describe("webauthn options", () => {
  it("accepts exact origins under the RP ID, including http://localhost", () => {
    expect(webauthn(good)).toMatchObject({ type: "webauthn", level: "phishing-resistant", amr: ["hwk"] });
    expect(() => webauthn({ rpID: "localhost", origins: ["http://localhost:3000"] })).not.toThrow();
    expect(() =>
      webauthn({ rpID: "example.com", origins: ["https://example.com", "https://a.b.example.com:8443"] }),
    ).not.toThrow();
  });

  it.each<[string, string, unknown]>([
    ["a missing rpID", "rpID", { origins: good.origins }],
    ["an rpID with a scheme", "rpID", { ...good, rpID: "https://example.com" }],
    ["an rpID with a port", "rpID", { ...good, rpID: "example.com:443" }],
    ["an IP address as rpID", "rpID", { rpID: "127.0.0.1", origins: ["https://127.0.0.1"] }],
    ["an uppercase rpID", "rpID", { ...good, rpID: "Example.com" }],
    ["an rpID that is not a suffix of the origin", "rpID", { ...good, rpID: "other.com" }],
    ["an rpID that only ends like the host", "rpID", { rpID: "ample.com", origins: ["https://example.com"] }],
    ["no origins", "origins", { ...good, origins: [] }],
    ["origins as a string", "origins", { ...good, origins: "https://app.example.com" }],
    ["an origin with a path", "origins", { ...good, origins: ["https://app.example.com/login"] }],
    ["an origin with a trailing slash", "origins", { ...good, origins: ["https://app.example.com/"] }],
    ["an origin with its default port", "origins", { ...good, origins: ["https://app.example.com:443"] }],
    ["plain http outside localhost", "origins", { ...good, origins: ["http://app.example.com"] }],
    ["an origin that is not a URL", "origins", { ...good, origins: ["app.example.com"] }],
    ["an empty rpName", "rpName", { ...good, rpName: " " }],
    ["a timeout in seconds", "timeoutMs", { ...good, timeoutMs: 60 }],
    ["attestation other than none", "attestation", { ...good, attestation: "direct" }],
  ])("%s throws a TypeError naming `%s`", (_, name, options) => {
    expect(() => webauthn(options as WebAuthnOptions)).toThrow(TypeError);
    expect(() => webauthn(options as WebAuthnOptions)).toThrow(new RegExp(`\`${name}\``));
  });
});
