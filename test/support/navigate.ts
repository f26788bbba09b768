// A browser without JavaScript, for the no-JS page flows of the demos.
import { request as httpRequest } from "node:http";
import type { Browser } from "./process.js";

/**
 * A top-level navigation of a browser without JavaScript (node:http, so the request carries
 * `Sec-Fetch-Mode: navigate` as a browser's does, which fetch cannot send): a GET, or a POST of an
 * urlencoded form. Cookies go through `b`'s jar.
 */
export function navigate(
  b: Browser,
  origin: string,
  path: string,
  form?: Record<string, string>,
): Promise<{ status: number; location: string | undefined; type: string; text: string }> {
  const body = form ? new URLSearchParams(form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      `${origin}${path}`,
      {
        method: form ? "POST" : "GET",
        timeout: b.timeoutMs,
        headers: {
          accept: "text/html,application/xhtml+xml",
          "sec-fetch-mode": "navigate",
          "sec-fetch-dest": "document",
          "sec-fetch-site": form ? "same-origin" : "none",
          ...(form ? { origin, "content-type": "application/x-www-form-urlencoded" } : {}),
          ...(b.jar.size > 0 ? { cookie: b.cookieHeader() } : {}),
        },
      },
      (res) => {
        for (const c of res.headers["set-cookie"] ?? []) {
          const [pair = ""] = c.split(";");
          const i = pair.indexOf("=");
          const value = pair.slice(i + 1);
          if (value === "" || /;\s*max-age=0\b/i.test(c)) b.jar.delete(pair.slice(0, i));
          else b.jar.set(pair.slice(0, i), value);
        }
        const chunks: Buffer[] = [];
        res.on("data", (d: Buffer) => chunks.push(d));
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            location: res.headers.location,
            type: String(res.headers["content-type"] ?? ""),
            text: Buffer.concat(chunks).toString("utf8"),
          }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${b.timeoutMs} ms`)));
    req.on("error", reject);
    req.end(body);
  });
}
