import { describe, expect, it } from "vitest";
import { retryText } from "./retry-text.js";

describe("retryText: when to try again, never earlier than the server allows", () => {
  it.each([
    [0.2, "1 second"],
    [1, "1 second"],
    [44.1, "45 seconds"],
    [59, "59 seconds"],
    [60, "1 minute"],
    [61, "2 minutes"],
    [900, "15 minutes"],
    [3600, "1 hour"],
    [3601, "2 hours"],
  ])("%d s -> %s", (seconds, text) => {
    expect(retryText(seconds)).toBe(text);
  });
});
