// The load test reads each demo process's memory after a full collection through the V8 inspector
// (test/support/inspector.ts: a minimal WebSocket client, Node 20 having none). Its frames, and a
// real `node --inspect=127.0.0.1:0` child: the port is on loopback only, calls round-trip (messages
// past 64 KiB both ways), and the heap it reads after a collection counts what is kept, not garbage.
import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  clientFrame,
  connectDevTools,
  type DevTools,
  evaluate,
  heapAfterGc,
  inspectorUrls,
  listensOnLoopbackOnly,
  readFrame,
} from "../support/inspector.js";
import { supervise } from "../support/process.js";

describe("the inspector's WebSocket frames", () => {
  it("a client frame is masked and reads back whole, at every length encoding", () => {
    for (const n of [0, 125, 126, 65_535, 65_536, 200_000]) {
      const payload = Buffer.alloc(n, "x");
      const frame = clientFrame(0x1, payload);
      expect((frame[1] as number) & 0x80, "masked").toBe(0x80);
      if (n > 0) expect(frame.subarray(frame.length - n).equals(payload), "payload sent masked").toBe(false);
      expect(readFrame(frame.subarray(0, frame.length - 1)), "incomplete").toBeUndefined();
      const read = readFrame(Buffer.concat([frame, Buffer.from([0x81])]));
      expect(read).toMatchObject({ fin: true, opcode: 1, size: frame.length });
      expect(read?.payload.equals(payload)).toBe(true);
    }
  });

  it("an unmasked server frame, a fragment and a close frame", () => {
    expect(readFrame(Buffer.from([0x01, 0x02, 0x61, 0x62]))).toMatchObject({
      fin: false,
      opcode: 1,
      size: 4,
    });
    expect(readFrame(Buffer.from([0x88, 0x00]))).toMatchObject({ fin: true, opcode: 8, size: 2 });
  });

  it("finds every inspector address in a process's output", () => {
    const out =
      "Debugger listening on ws://127.0.0.1:40001/0f1e\nFor help, see: x\nok\nDebugger listening on ws://127.0.0.1:40002/aa\n";
    expect(inspectorUrls(out)).toEqual(["ws://127.0.0.1:40001/0f1e", "ws://127.0.0.1:40002/aa"]);
  });
});

describe("a process started with --inspect=127.0.0.1:0", () => {
  const child = spawn(process.execPath, ["--inspect=127.0.0.1:0", "-e", "setInterval(() => {}, 1000)"], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const supervised = supervise(child);
  let devtools: DevTools;
  let url = "";

  beforeAll(async () => {
    for (let i = 0; i < 200 && inspectorUrls(supervised.output()).length === 0; i++)
      await new Promise((r) => setTimeout(r, 25));
    url = inspectorUrls(supervised.output())[0] ?? "";
    devtools = await connectDevTools(url);
  });
  afterAll(async () => {
    devtools?.close();
    await supervised.stop();
  });

  it("listens on loopback only, and is refused anywhere else", async () => {
    expect(url).toMatch(/^ws:\/\/127\.0\.0\.1:\d+\//);
    expect(listensOnLoopbackOnly(Number(new URL(url).port))).toBe(true);
    await expect(connectDevTools(url.replace("127.0.0.1", "192.0.2.1"))).rejects.toThrow(/not on loopback/);
  });

  it("calls round-trip, with messages past 64 KiB both ways", async () => {
    expect(await evaluate(devtools, "process.pid")).toBe(child.pid);
    expect(await evaluate(devtools, `"${"y".repeat(70_000)}".length + "z".repeat(100_000)`)).toBe(
      `70000${"z".repeat(100_000)}`,
    );
    await expect(devtools.call("No.such")).rejects.toThrow();
  });

  it("the heap after a collection counts what is kept, not garbage", async () => {
    const base = await heapAfterGc(devtools);
    // 20 MB of garbage: gone after the collection.
    await evaluate(
      devtools,
      "{ let g = []; for (let i = 0; i < 200; i++) g.push(new Array(12500).fill(i)); 0 }",
    );
    expect(await heapAfterGc(devtools)).toBeLessThan(base + 2);
    // 20 MB kept: counted.
    await evaluate(
      devtools,
      "globalThis.kept = []; for (let i = 0; i < 200; i++) kept.push(new Array(12500).fill(i)); 0",
    );
    expect(await heapAfterGc(devtools)).toBeGreaterThan(base + 15);
    await evaluate(devtools, "globalThis.kept = undefined");
    expect(await heapAfterGc(devtools)).toBeLessThan(base + 2);
  });
});
