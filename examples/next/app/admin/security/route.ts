import { htmlResponse, resultPage } from "@stepup/example-shared";
import { BRAND } from "../../../lib/brand";
import { demo } from "../../../lib/demo";

export const dynamic = "force-dynamic";

// Only a passkey or security key will do here: codes can be phished, WebAuthn cannot.
export const GET = demo().stepup.withStepUp(
  (_request, _context, stepUp) => {
    const at = new Date(stepUp.verifiedAt ?? 0).toISOString();
    return htmlResponse(resultPage("Security settings", `Verified with a passkey at ${at}.`, BRAND));
  },
  {
    resource: "security",
    action: "manage",
    label: "change your security settings",
    maxAge: demo().maxAge(300),
    level: "phishing-resistant",
    match: "action",
  },
);
