"use server";
import type { GuardActionFailure } from "@stepup/next";
import { demo } from "../lib/demo";

export type DeleteAccountResult = { ok: true; deleted: true; verifiedAt: string | null } | GuardActionFailure;

/** "Delete my account" as a Server Action: a public POST endpoint, so it guards itself. */
export async function deleteAccount(): Promise<DeleteAccountResult> {
  const guard = await demo().stepup.guardAction({
    resource: "account",
    action: "delete",
    maxAge: demo().maxAge(300),
  });
  if (!guard.ok) return guard;
  // ... delete the account here ...
  return { ok: true, deleted: true, verifiedAt: guard.stepUp.verifiedAt };
}
