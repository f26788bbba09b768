import { changePassword } from "../../lib/auth-routes";

export const dynamic = "force-dynamic";
export const POST = changePassword;
