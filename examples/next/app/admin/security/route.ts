import { demo } from "../../../lib/demo";

export const dynamic = "force-dynamic";

// Only a passkey or security key will do here: codes can be phished, WebAuthn cannot.
export const GET = demo().stepup.withStepUp(
  (_request, _context, stepUp) =>
    new Response(
      `<!doctype html><title>Security settings</title><h1>Security settings</h1><p>Verified with a passkey at ${new Date(stepUp.verifiedAt ?? 0).toISOString()}</p><p><a href="/">Home</a></p>`,
      { headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } },
    ),
  {
    resource: "security",
    action: "manage",
    maxAge: demo().maxAge(300),
    level: "phishing-resistant",
    match: "action",
  },
);
