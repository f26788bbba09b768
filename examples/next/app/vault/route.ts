import { demo } from "../../lib/demo";

export const dynamic = "force-dynamic";

// A passkey, and the authenticator must also verify the user (PIN or biometric), not only their presence.
export const GET = demo().stepup.withStepUp(
  () =>
    new Response(`<!doctype html><title>Vault</title><h1>Vault open</h1><p><a href="/">Home</a></p>`, {
      headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" },
    }),
  {
    resource: "vault",
    action: "open",
    maxAge: demo().maxAge(300),
    level: "phishing-resistant",
    userVerification: "required",
    match: "action",
  },
);
