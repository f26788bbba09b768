import { demo } from "../../lib/demo";

export const dynamic = "force-dynamic";

async function details(request: Request): Promise<{ amount: string; to: string }> {
  const type = request.headers.get("content-type") ?? "";
  const body: Record<string, unknown> = type.startsWith("application/x-www-form-urlencoded")
    ? Object.fromEntries(new URLSearchParams(await request.text()))
    : ((await request.json().catch(() => ({}))) as Record<string, unknown>);
  return { amount: String(body.amount ?? ""), to: String(body.to ?? "") };
}

// Bound to this transaction: a step-up for 100 to alice does not pay 900 to mallory.
export const POST = demo().stepup.withStepUp(
  async (request) => Response.json({ transferred: true, ...(await details(request)) }),
  {
    resource: "payment",
    action: "transfer",
    maxAge: demo().maxAge(300),
    match: "transaction",
    transaction: details,
  },
);
