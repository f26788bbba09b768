// Threat: memory exhaustion and parser confusion through request bodies.
import { describe, expect, it } from "vitest";
import { MAX_BODY_BYTES, MAX_JSON_DEPTH, readBodyBytes, readJson } from "./body.js";

const post = (body: BodyInit, headers: Record<string, string> = { "content-type": "application/json" }) =>
  new Request("http://localhost/x", { method: "POST", body, headers, duplex: "half" } as RequestInit);

describe("request bodies", () => {
  it("a body over the limit is refused while streaming, even without Content-Length", async () => {
    const chunk = new TextEncoder().encode("x".repeat(16 * 1024));
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent++;
        if (sent > 200) controller.close();
        else controller.enqueue(chunk);
      },
    });
    await expect(readJson(post(stream))).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect(sent).toBeLessThan(10); // stopped early, did not buffer 3 MB
  });

  it("a clone's body over the limit is refused too (an adapter reading before the handler)", async () => {
    const chunk = new Uint8Array(16 * 1024);
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      pull(controller) {
        sent++;
        if (sent > 200) controller.close();
        else controller.enqueue(chunk);
      },
    });
    const request = post(stream);
    await expect(readBodyBytes(request.clone())).rejects.toMatchObject({ code: "PAYLOAD_TOO_LARGE" });
    expect(sent).toBeLessThan(10);
    const small = post("x".repeat(MAX_BODY_BYTES));
    expect((await readBodyBytes(small.clone())).byteLength).toBe(MAX_BODY_BYTES);
    expect(await small.text()).toHaveLength(MAX_BODY_BYTES); // the original keeps its body
  });

  it("malformed JSON, arrays and scalars are INVALID_INPUT; other types are UNSUPPORTED_MEDIA_TYPE", async () => {
    for (const body of ["{", "[1]", "42", '"x"', "null"]) {
      await expect(readJson(post(body))).rejects.toMatchObject({ code: "INVALID_INPUT" });
    }
    await expect(readJson(post("code=1", { "content-type": "text/plain" }))).rejects.toMatchObject({
      code: "UNSUPPORTED_MEDIA_TYPE",
    });
  });

  it("JSON nested deeper than MAX_JSON_DEPTH is INVALID_INPUT (20,000 arrays would overflow a stack later)", async () => {
    const nest = (n: number) => `${"[".repeat(n)}${"]".repeat(n)}`;
    await expect(readJson(post(`{"x":${nest(20_000)}}`))).rejects.toMatchObject({ code: "INVALID_INPUT" });
    await expect(readJson(post(`{"x":${nest(MAX_JSON_DEPTH)}}`))).rejects.toMatchObject({
      code: "INVALID_INPUT",
    });
    expect(await readJson(post(`{"x":${nest(MAX_JSON_DEPTH - 1)}}`))).toHaveProperty("x");
    // Brackets inside strings, escaped quotes included, are not nesting.
    const text = `"\\"${"[{".repeat(100)}"`;
    expect(await readJson(post(`{"x":${text}}`))).toEqual({ x: JSON.parse(text) });
  });

  it("reads a JSON object", async () => {
    expect(await readJson(post('{"code":"123456"}'))).toEqual({ code: "123456" });
  });
});
