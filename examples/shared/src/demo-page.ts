// The demos' own pages ("your app"): the same visual language as stepup's pages, light and dark,
// from the same token values (packages/browser/src/tokens.ts), with a stylesheet of their own.
// The Next demo's layout.tsx inlines DEMO_CSS for its React pages.

const ESCAPES: Readonly<Record<string, string>> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Markup that is already safe: what `html` returns. */
export class Html {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

type Slot = Html | string | number | false | null | undefined | readonly Slot[];

function render(value: Slot): string {
  if (value instanceof Html) return value.value;
  if (value === null || value === undefined || value === false) return "";
  if (Array.isArray(value)) return value.map((v: Slot) => render(v)).join("");
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/** Escape-by-default template: every `${}` is escaped unless it is `Html` from another `html`. */
export function html(strings: TemplateStringsArray, ...values: readonly Slot[]): Html {
  let out = strings[0] ?? "";
  values.forEach((v, i) => {
    out += render(v) + (strings[i + 1] ?? "");
  });
  return new Html(out);
}

export const DEMO_CSS = `
:root{color-scheme:light dark;--bg:#f4f5f7;--card:#fff;--text:#1b1f24;--muted:#59636e;--border:#d8dee4;
--subtle:#f6f8fa;--field:#fff;--field-border:#6e7781;--accent:#0b63ce;--accent-hover:#0a55b0;--on-accent:#fff;
--accent-soft:#e7f0fc;--danger:#b42318;--danger-soft:#fef3f2;--danger-border:#f3b8b2;--ok:#116329;--ok-soft:#dafbe1;
--focus:#0b63ce;--shadow:0 1px 2px rgba(16,24,40,.05),0 12px 32px -8px rgba(16,24,40,.12)}
@media (prefers-color-scheme:dark){:root{--bg:#0e1116;--card:#171b21;--text:#e8ecf1;--muted:#9aa4b0;--border:#2d343d;
--subtle:#1d232b;--field:#0e1116;--field-border:#6b7684;--accent:#4c9cff;--accent-hover:#6aadff;--on-accent:#0b1220;
--accent-soft:#17263a;--danger:#ff9b8f;--danger-soft:#2a1515;--danger-border:#6b2a24;--ok:#7ee2a0;--ok-soft:#12301d;
--focus:#6aadff;--shadow:0 1px 2px rgba(0,0,0,.4),0 12px 32px -8px rgba(0,0,0,.5)}}
*,*::before,*::after{box-sizing:border-box}
body{margin:0;min-height:100vh;padding:2.5rem 1rem;background:var(--bg);color:var(--text);
font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif;-webkit-font-smoothing:antialiased}
.shell{max-width:44rem;margin:0 auto}
.brand{margin:0 0 1rem;text-align:center;font-size:.875rem;font-weight:600;color:var(--muted)}
.card{background:var(--card);border:1px solid var(--border);border-radius:16px;box-shadow:var(--shadow);padding:2rem 1.75rem;margin:0 0 1.5rem}
@media (min-width:30rem){.card{padding:2.25rem 2.5rem}}
h1{margin:0 0 .5rem;font-size:1.5rem;line-height:1.25;letter-spacing:-.015em}
h2{margin:0 0 .75rem;font-size:1.125rem;line-height:1.3}
p{margin:0 0 1rem}
.lead{color:var(--muted)}
.lead strong{color:var(--text)}
a{color:var(--accent);text-underline-offset:.15em}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.grid{display:grid;gap:1.5rem}
@media (min-width:40rem){.grid{grid-template-columns:1fr 1fr}}
.field{margin:0 0 1rem}
label{display:block;margin:0 0 .375rem;font-size:.9375rem;font-weight:600}
input{font:inherit}
.input{display:block;width:100%;min-height:2.75rem;padding:.5rem .75rem;border:1px solid var(--field-border);border-radius:8px;
background:var(--field);color:var(--text)}
.input[aria-invalid=true]{border-color:var(--danger)}
.button{display:inline-flex;align-items:center;justify-content:center;min-height:2.75rem;padding:.5rem 1.125rem;
border:1px solid transparent;border-radius:8px;font:inherit;font-weight:600;line-height:1.2;text-decoration:none;cursor:pointer}
.button-primary{background:var(--accent);color:var(--on-accent)}
.button-primary:hover{background:var(--accent-hover)}
.button-secondary{background:var(--card);color:var(--text);border-color:var(--border)}
.button-secondary:hover{background:var(--subtle);border-color:var(--field-border)}
.button-danger{background:var(--card);color:var(--danger);border-color:var(--border)}
.button-danger:hover{background:var(--danger-soft);border-color:var(--danger-border)}
.alert{margin:0 0 1.25rem;padding:.75rem .875rem;border:1px solid var(--danger-border);border-radius:10px;
background:var(--danger-soft);color:var(--danger);font-size:.9375rem}
.alert p{margin:0}
.section-title{margin:1.75rem 0 1rem}
.actions{list-style:none;margin:0;padding:0}
.action{display:flex;flex-wrap:wrap;align-items:center;justify-content:space-between;gap:.5rem 1rem;padding:1rem 0;
border-top:1px solid var(--border)}
.action:first-child{border-top:0;padding-top:0}
.action form{margin:0;display:flex;flex-wrap:wrap;align-items:flex-end;gap:.5rem}
.action .field{margin:0}
.action .input{width:7rem}
.rule{display:block;font-size:.875rem;color:var(--muted)}
.title{font-weight:600}
.footer{display:flex;justify-content:space-between;align-items:center;gap:1rem;flex-wrap:wrap}
.footer form{margin:0}
.inline-action{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem}
.inline-action output{font-size:.875rem;color:var(--muted)}
.inline-action output:empty{display:none}
.button:disabled{opacity:.6;cursor:progress}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.375rem 1rem;margin:0 0 1rem}
dt{font-weight:600}
dd{margin:0;overflow-wrap:anywhere}
.pill{display:inline-block;padding:.0625rem .5rem;border-radius:999px;font-size:.75rem;font-weight:600;background:var(--ok-soft);color:var(--ok)}
`;

/** A whole demo page: the brand line, then `body` (one or more `.card`s). */
/** A whole demo page; `brand` names the demo ("Stepup demo", "Stepup demo (Next.js)"). */
export function demoPage(title: string, body: Html, brand = "Stepup demo"): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ${brand}</title>
<style>${new Html(DEMO_CSS)}</style>
</head>
<body>
<div class="shell">
<p class="brand">${brand}</p>
<main>
${body}
</main>
</div>
</body>
</html>
`.value;
}

/** A page for a protected route's result: heading, one line, and the way home. */
export function resultPage(title: string, line: string, brand?: string): string {
  return demoPage(
    title,
    html`<div class="card"><h1>${title}</h1><p class="lead">${line}</p><p><a class="button button-secondary" href="/">Back home</a></p></div>`,
    brand,
  );
}

/** An HTML response that no cache keeps (the pages show who is signed in). */
export function htmlResponse(page: string, status = 200): Response {
  return new Response(page, {
    status,
    headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
  });
}
