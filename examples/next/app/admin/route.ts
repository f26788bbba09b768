import { demo } from "../../lib/demo";

export const dynamic = "force-dynamic";

// A route handler rather than a page: when not fresh, the guard answers with the challenge page
// inline at this URL (401); after the step-up the browser reloads /admin.
export const GET = demo().stepup.withStepUp(
  (_request, _context, stepUp) =>
    new Response(
      `<!doctype html><title>Admin</title><h1>Admin panel</h1><p>Verified at ${new Date(stepUp.verifiedAt ?? 0).toISOString()}</p><p><a href="/">Home</a></p>`,
      { headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } },
    ),
  { resource: "admin", action: "read", maxAge: demo().maxAge(900) },
);
