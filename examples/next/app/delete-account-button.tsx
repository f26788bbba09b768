"use client";
import { useStepUp } from "@stepup/next/client";
import { deleteAccount } from "./actions";

/** Calls the Server Action; when it needs a step-up, the dialog opens and the action is retried once. */
export function DeleteAccountButton() {
  const { run, pending, result } = useStepUp(deleteAccount);
  return (
    <div className="inline-action">
      <button
        type="button"
        className="button button-danger"
        id="delete-account-action"
        disabled={pending}
        onClick={() => void run()}
      >
        Delete my account
      </button>
      <output id="delete-account-result">
        {result === undefined
          ? ""
          : result.ok
            ? "Account deleted."
            : "error" in result
              ? `Not deleted: ${result.error}`
              : "Not deleted: a step-up is required."}
      </output>
    </div>
  );
}
