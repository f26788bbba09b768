import { demo } from "../../../lib/demo";

export const dynamic = "force-dynamic";

export const POST = demo().stepup.withStepUp(
  (_request, _context, stepUp) => Response.json({ deleted: true, verifiedAt: stepUp.verifiedAt }),
  { resource: "account", action: "delete", maxAge: demo().maxAge(300) },
);
