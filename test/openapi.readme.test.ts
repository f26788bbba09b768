// Drift: the README's API section says one thing, the OpenAPI document another. The section is
// generated from the document; this test fails when they differ and tells how to regenerate.
import { readFileSync, writeFileSync } from "node:fs";
import { recoveryCodes, totp, webauthn } from "@stepup/core";
import { openApiDocument } from "@stepup/http";
import { describe, expect, it } from "vitest";
import { API_END, API_START, apiMarkdown } from "./support/api-markdown.js";

const README = new URL("../README.md", import.meta.url);
const factors = [
  totp(),
  webauthn({ rpID: "localhost", origins: ["http://localhost:3000"] }),
  recoveryCodes(),
];

describe("README: HTTP API and error codes", () => {
  it("is the section the OpenAPI document renders (regenerate: npm run api-docs)", () => {
    const doc = openApiDocument({ basePath: "/stepup", factors });
    const rendered = apiMarkdown(doc, ["TOTP", "WebAuthn", "recovery codes"]);
    const text = readFileSync(README, "utf8");
    const start = text.indexOf(API_START);
    const end = text.indexOf(API_END);
    expect(start, `README.md has no ${API_START} ... ${API_END} section`).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(start);
    const current = text.slice(start, end + API_END.length);
    // `npm run api-docs` runs this test with STEPUP_WRITE_API_DOCS=1 (turbo's strict env never passes it).
    if (process.env.STEPUP_WRITE_API_DOCS === "1" && current !== rendered) {
      writeFileSync(README, text.slice(0, start) + rendered + text.slice(end + API_END.length));
      return;
    }
    expect(
      current,
      "README.md's API section differs from the OpenAPI document: run `npm run api-docs` and commit README.md",
    ).toBe(rendered);
  });
});
