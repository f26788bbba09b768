// The demos' step-up token key: a committed development key is public, so anyone holding it can
// mint tokens the demo accepts. It must never be used under NODE_ENV=production, and must say so
// loudly when used at all.
import { generateSigningKey } from "@stepup/core";
import { DEV_TOKEN_KEY, tokenKeyFromEnv } from "@stepup/example-shared";
import { describe, expect, it } from "vitest";

describe("demo STEPUP_TOKEN_KEY", () => {
  it("production without STEPUP_TOKEN_KEY refuses to start rather than sign with the public dev key", () => {
    expect(() => tokenKeyFromEnv({ NODE_ENV: "production" }, () => {})).toThrow(/STEPUP_TOKEN_KEY/);
  });

  it("development without it uses the dev key, with a warning", () => {
    const warnings: string[] = [];
    expect(tokenKeyFromEnv({}, (line) => warnings.push(line))).toBe(DEV_TOKEN_KEY);
    expect(warnings.join("")).toMatch(/WARNING: STEPUP_TOKEN_KEY is not set/);
  });

  it("a set key is used as given, `\\n` escapes (one-line env files) included", () => {
    const key = generateSigningKey();
    const oneLine = key.replace(/\n/g, "\\n");
    expect(tokenKeyFromEnv({ NODE_ENV: "production", STEPUP_TOKEN_KEY: oneLine }, () => {})).toBe(key);
  });
});
