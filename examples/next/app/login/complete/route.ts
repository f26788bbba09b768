import { completeSignIn } from "../../../lib/auth-routes";

export const dynamic = "force-dynamic";
// GET: the browser, back from the sign-in challenge; POST: a JSON client after verifying.
export const GET = completeSignIn;
export const POST = completeSignIn;
