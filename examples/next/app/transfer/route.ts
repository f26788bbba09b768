import { demo } from "../../lib/demo";
import { describeTransfer, readTransfer } from "../../lib/transfer";

export const dynamic = "force-dynamic";

// Bound to this transaction, as typed values: a step-up for 100 to alice does not pay 900 to
// mallory, nor ["100"] to alice; the page and the modal show "Send 100 to alice".
export const POST = demo().stepup.withStepUp(
  async (request) => {
    const transfer = await readTransfer(request);
    // The app's own sensitive action: in the audit log, and POSTed to the webhooks.
    await demo().stepup.track(
      request,
      { tag: "transfer.sent", severity: "high", metadata: { amount: transfer.amount } },
      { webhook: true },
    );
    return Response.json({ transferred: true, ...transfer });
  },
  {
    resource: "payment",
    action: "transfer",
    // Over 1000 always asks; see demoRules in @stepup/example-shared for the rest.
    ...demo().rules["payment:transfer"],
    transaction: readTransfer,
    describe: async (request) => describeTransfer(await readTransfer(request)),
  },
);
