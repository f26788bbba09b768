// The README's app/stepup/[...stepup]/route.ts and app/api/export/route.ts.
import { stepup } from "./stepup.js";

export const dynamic = "force-dynamic";
export const { GET, POST, PATCH, DELETE } = stepup.handlers;

export const exportRecords = stepup.withStepUp(
  (_request, _context, stepUp) => Response.json({ records: [], verifiedAt: stepUp.verifiedAt }),
  { resource: "data", action: "export", maxAge: 300 },
);

export async function logout(request: Request): Promise<Response> {
  const response = Response.json({ ok: true });
  response.headers.append("set-cookie", await stepup.clear(request));
  return response;
}
