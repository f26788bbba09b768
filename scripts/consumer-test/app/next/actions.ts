"use server";
// The README's app/actions.ts.
import type { GuardActionFailure } from "@stepup/next";
import { stepup } from "./stepup.js";

export async function deleteAccount(): Promise<{ ok: true } | GuardActionFailure> {
  const guard = await stepup.guardAction({ resource: "account", action: "delete", maxAge: 300 });
  if (!guard.ok) return guard;
  return { ok: true };
}
