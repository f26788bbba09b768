import { htmlResponse, resultPage } from "@stepup/example-shared";
import { BRAND } from "../../lib/brand";
import { demo } from "../../lib/demo";

export const dynamic = "force-dynamic";

// A passkey, and the authenticator must also verify the user (PIN or biometric), not only their presence.
export const GET = demo().stepup.withStepUp(
  () => htmlResponse(resultPage("Vault open", "Verified with a passkey that checked it was you.", BRAND)),
  {
    resource: "vault",
    action: "open",
    label: "open the vault",
    maxAge: demo().maxAge(300),
    level: "phishing-resistant",
    userVerification: "required",
    match: "action",
  },
);
