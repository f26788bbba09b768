import { session } from "../../../lib/auth-routes";
import { demo } from "../../../lib/demo";

export const dynamic = "force-dynamic";

export const GET = demo().stepup.withStepUp(
  // A script with only a step-up token has no session: the token's user (see lib/demo.ts).
  async (request) => {
    // The app's own sensitive action, in the audit log (not sent to webhooks).
    await demo().stepup.track(request, { tag: "data.exported" });
    return Response.json({
      user: (await session()).email ?? (await demo().bearerUser(request))?.email,
      exportedAt: new Date().toISOString(),
      records: [],
    });
  },
  { resource: "data", action: "export", ...demo().rules["data:export"] },
);
