import { htmlResponse, passLine, resultPage } from "@stepup/example-shared";
import { BRAND } from "../../lib/brand";
import { demo } from "../../lib/demo";

export const dynamic = "force-dynamic";

// A route handler rather than a page: when not fresh, the guard answers with the challenge page
// inline at this URL (401); after the step-up the browser reloads /admin.
export const GET = demo().stepup.withStepUp(
  (_request, _context, stepUp) => htmlResponse(resultPage("Admin panel", passLine(stepUp), BRAND)),
  // A trusted device ("Remember this device") passes: see demoRules in @stepup/example-shared.
  { resource: "admin", action: "read", ...demo().rules["admin:read"] },
);
