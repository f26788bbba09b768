import { login } from "../../lib/auth-routes";

export const dynamic = "force-dynamic";
export const POST = login;
