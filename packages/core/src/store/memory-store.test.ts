import { describe, expect, it } from "vitest";
import type { Clock } from "../internal/clock.js";
import { storeContract } from "./contract.js";
import { memoryStore } from "./memory-store.js";

storeContract("memoryStore", async () => {
  let t = Date.UTC(2026, 0, 1);
  const clock = {
    now: () => t,
    advance(ms: number) {
      t += ms;
    },
  };
  return { store: memoryStore({ clock }), clock };
});

describe("memoryStore options", () => {
  it("a clock without now() throws a TypeError naming `clock` at construction", () => {
    expect(() => memoryStore({ clock: {} as Clock })).toThrow(/clock/);
  });
});
