import type { StepUpUser } from "@stepup/core";
import type { createStepUpHttp } from "../src/create-step-up-http.js";

const origin = "http://localhost:3000";
const HTML = "text/html";

type Http = ReturnType<typeof createStepUpHttp>;

/** What a page answered. */
export interface PageAnswer {
  status: number;
  location: string | null;
  retryAfter: string | null;
  html: string;
}

/**
 * A browser without JavaScript against the HTTP layer: it keeps cookies, sends same-origin form
 * posts, and meets the guard at `/admin` (the inline challenge page).
 */
export function pageClient(http: Http, user: StepUpUser) {
  const jar = new Map<string, string>();
  const keep = (res: Response) => {
    for (const set of res.headers.getSetCookie()) {
      const [pair = ""] = set.split(";");
      const at = pair.indexOf("=");
      jar.set(pair.slice(0, at), pair.slice(at + 1));
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join("; ");
  const answer = async (res: Response): Promise<PageAnswer> => {
    keep(res);
    return {
      status: res.status,
      location: res.headers.get("location"),
      retryAfter: res.headers.get("retry-after"),
      html: await res.text(),
    };
  };
  return {
    async get(path: string) {
      const request = new Request(`${origin}${path}`, { headers: { accept: HTML, cookie: cookie() } });
      return answer(await http.handle(request, { user }));
    },
    async post(path: string, fields: Record<string, string>) {
      const request = new Request(`${origin}${path}`, {
        method: "POST",
        headers: {
          accept: HTML,
          origin,
          cookie: cookie(),
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams(fields).toString(),
      });
      return answer(await http.handle(request, { user }));
    },
    /** The guarded page: the inline challenge page (401), and the challenge's id. */
    async guarded() {
      const guard = http.guard({ resource: "admin", action: "read" });
      const request = new Request(`${origin}/admin`, { headers: { accept: HTML, cookie: cookie() } });
      const outcome = await guard(request, { user });
      if (outcome.kind !== "step-up-required") return { id: "", page: { status: 200 } as PageAnswer };
      return { id: outcome.opened.challenge.id, page: await answer(http.render(request, outcome)) };
    },
  };
}

/** The page's CSRF token (every form carries the same one). */
export const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)?.[1] ?? "";

/** The opening tags of `name` elements. */
export const openTags = (html: string, name: string) =>
  html.match(new RegExp(`<${name}\\b[^>]*>`, "gi")) ?? [];

/** The forms of a page, whole (no nesting in stepup's pages). */
export const formsOf = (html: string) => html.match(/<form\b[\s\S]*?<\/form>/g) ?? [];
