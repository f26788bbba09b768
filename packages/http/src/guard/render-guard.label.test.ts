// A rule's label is what the user reads before confirming ("You're about to open the admin
// panel."): it must reach the 401 body (for the modal) and the page, as text, never as markup.
import { describe, expect, it } from "vitest";
import { testHttp } from "../../test/helpers.js";

const ctx = { user: { id: "alice" } };

async function required(label?: string) {
  const http = testHttp();
  const guard = http.guard({ resource: "admin", action: "read", ...(label === undefined ? {} : { label }) });
  const json = new Request("http://localhost:3000/admin", { headers: { accept: "application/json" } });
  const page = new Request("http://localhost:3000/admin", { headers: { accept: "text/html" } });
  const outcomes = [await guard(json, ctx), await guard(page, ctx)];
  const [a, b] = outcomes;
  if (a?.kind !== "step-up-required" || b?.kind !== "step-up-required") throw new Error("expected step-up");
  return {
    body: (await http.render(json, a).json()) as Record<string, unknown>,
    html: await http.render(page, b).text(),
  };
}

describe("a rule's label on the 401 and the page", () => {
  it("the step_up_required body carries the label; the page says it instead of 'read admin'", async () => {
    const { body, html } = await required("open the admin panel");
    expect(body).toMatchObject({ error: "step_up_required", resource: "admin", action: "read" });
    expect(body.label).toBe("open the admin panel");
    expect(html).toContain("You're about to <strong>open the admin panel</strong>.");
    expect(html).not.toContain("read admin");
  });

  it("without a label the body has none and the page keeps today's wording", async () => {
    const { body, html } = await required();
    expect(body).not.toHaveProperty("label");
    expect(html).toContain("You're about to <strong>read admin</strong>.");
  });

  it("a label that looks like markup is shown as text", async () => {
    const { body, html } = await required('see <img src=x onerror="alert(1)">');
    expect(body.label).toBe('see <img src=x onerror="alert(1)">');
    expect(html).toContain("see &lt;img src=x onerror=&quot;alert(1)&quot;&gt;");
    expect(html).not.toContain("<img src=x");
  });
});
