import { session } from "../../../lib/auth-routes";
import { demo } from "../../../lib/demo";

export const dynamic = "force-dynamic";

export const GET = demo().stepup.withStepUp(
  async () =>
    Response.json({ user: (await session()).email, exportedAt: new Date().toISOString(), records: [] }),
  { resource: "data", action: "export", ...demo().rules["data:export"] },
);
