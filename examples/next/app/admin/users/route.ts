import { adminForbiddenPage, adminUsersPage, htmlResponse, isAdmin } from "@stepup/example-shared";
import { session } from "../../../lib/auth-routes";
import { BRAND } from "../../../lib/brand";
import { demo } from "../../../lib/demo";

export const dynamic = "force-dynamic";

// Look a user up and reset, revoke or unlock them: the page calls the admin API from the browser
// (stepUpFetch), so it holds no user data itself; the API checks the administrator and their step-up.
export async function GET(request: Request): Promise<Response> {
  const s = await session();
  const url = new URL(request.url);
  if (!s.userId || !s.email) {
    const back = encodeURIComponent(url.pathname + url.search);
    return new Response(null, {
      status: 303,
      headers: { location: `/?returnTo=${back}`, "cache-control": "no-store" },
    });
  }
  if (!isAdmin(demo().admins, s.email)) return htmlResponse(adminForbiddenPage(BRAND), 403);
  const query = (url.searchParams.get("user") ?? "").trim().slice(0, 256);
  const found = query === "" ? undefined : await demo().users.lookup(query);
  return htmlResponse(adminUsersPage(query, found && { id: found.id, email: found.email }, BRAND));
}
