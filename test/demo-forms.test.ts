// The demos' sign-up and log-in forms: a failed form post is a page a person can act on (the
// form again, the error by it, the email kept and escaped), while the HTTP contract for JSON
// clients does not move: the same statuses and JSON bodies as before, in both demos.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PASSWORD, startDemo, uniqueEmail } from "./support/demo.js";
import { type NextDemo, startNextDemo } from "./support/next.js";

type Post = (
  path: string,
  body: Record<string, string>,
  form: boolean,
) => Promise<{
  status: number;
  type: string;
  text: string;
  location: string | null;
}>;

function poster(origin: string): Post {
  return async (path, body, form) => {
    const res = await fetch(`${origin}${path}`, {
      method: "POST",
      redirect: "manual",
      headers: {
        origin,
        accept: form ? "text/html" : "application/json",
        "content-type": form ? "application/x-www-form-urlencoded" : "application/json",
      },
      body: form ? new URLSearchParams(body).toString() : JSON.stringify(body),
    });
    return {
      status: res.status,
      type: res.headers.get("content-type") ?? "",
      text: await res.text(),
      location: res.headers.get("location"),
    };
  };
}

function contract(name: string, start: () => Promise<{ origin: string; stop(): Promise<void> }>) {
  describe(`${name}: sign-up and log-in forms`, () => {
    let post: Post;
    let stop = async () => {};
    const email = uniqueEmail("forms");

    beforeAll(async () => {
      const app = await start();
      post = poster(app.origin);
      stop = app.stop;
    }, 60_000);
    afterAll(() => stop());

    it("a good form sign-up goes home (303); a JSON sign-up answers 201 JSON", async () => {
      const form = await post("/signup", { email, password: PASSWORD }, true);
      expect(form.status).toBe(303);
      expect(form.location).toBe("/");
      const json = await post("/signup", { email: uniqueEmail("forms-json"), password: PASSWORD }, false);
      expect(json.status).toBe(201);
      expect(JSON.parse(json.text)).toMatchObject({ email: expect.stringContaining("@example.com") });
    });

    it("email taken: the form post gets the form again (409 HTML); JSON still gets email_taken", async () => {
      const form = await post("/signup", { email, password: PASSWORD }, true);
      expect(form.status).toBe(409);
      expect(form.type).toMatch(/^text\/html/);
      expect(form.text).toMatch(/role="alert" id="signup-error"><p>That email is already registered/);
      expect(form.text).toContain(`value="${email}"`);
      expect(form.text).toContain('aria-describedby="signup-error"');
      const json = await post("/signup", { email, password: PASSWORD }, false);
      expect(json.status).toBe(409);
      expect(JSON.parse(json.text)).toEqual({ error: "email_taken" });
    });

    it("bad password: 401 HTML with the log-in error for a form; 401 invalid_credentials JSON otherwise", async () => {
      const form = await post("/login", { email, password: "not the password" }, true);
      expect(form.status).toBe(401);
      expect(form.text).toContain("That email and password do not match an account.");
      expect(form.text).toMatch(/id="login-email"[^>]*value="[^"]+"/);
      const json = await post("/login", { email, password: "not the password" }, false);
      expect(json.status).toBe(401);
      expect(JSON.parse(json.text)).toEqual({ error: "invalid_credentials" });
    });

    it("a short password: 400 HTML for a form, 400 invalid_input JSON otherwise; the email comes back escaped", async () => {
      const sneaky = '"><script>alert(1)</script>@example.com';
      const form = await post("/signup", { email: sneaky, password: "short" }, true);
      expect(form.status).toBe(400);
      expect(form.text).not.toContain("<script>alert(1)");
      expect(form.text).toContain("&quot;&gt;&lt;script&gt;");
      const json = await post("/signup", { email: sneaky, password: "short" }, false);
      expect(json.status).toBe(400);
      expect(JSON.parse(json.text)).toMatchObject({ error: "invalid_input" });
    });
  });
}

contract("Express demo", async () => {
  const demo = await startDemo();
  return { origin: demo.origin, stop: () => demo.close() };
});

contract("Next demo", async () => {
  const demo: NextDemo = await startNextDemo();
  return { origin: demo.origin, stop: () => demo.stop() };
});
