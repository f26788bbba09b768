// The README's browser client section: a single-page app importing @stepup/browser.
import { type OpenStepUpResult, openStepUp, stepUpFetch } from "@stepup/browser";

export async function deleteWithStepUp(): Promise<boolean> {
  const result: OpenStepUpResult = await openStepUp({ resource: "account", action: "delete" });
  return result.success;
}

export async function exportData(): Promise<unknown> {
  const res = await stepUpFetch("/api/export", { headers: { accept: "application/json" } });
  return res.json();
}
