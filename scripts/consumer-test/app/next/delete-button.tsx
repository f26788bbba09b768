"use client";
// The README's app/delete-button.tsx.
import { useStepUp } from "@stepup/next/client";
import { deleteAccount } from "./actions.js";

export function DeleteButton() {
  const { run, pending, result } = useStepUp(deleteAccount);
  return (
    <>
      <button type="button" disabled={pending} onClick={() => void run()}>
        Delete my account
      </button>
      {result && !result.ok && "error" in result && <p>Not deleted: {result.error}</p>}
    </>
  );
}
