// Next calls `register` once when the server starts. stepup's Next adapter builds its instance on
// the first request; with WEBHOOK_URL set, the demo builds it here instead, so the webhook worker
// runs from the start and delivers what a previous process left in the outbox (a crash, a
// redeploy) even before anyone visits.
export async function register(): Promise<void> {
  if (process.env.NEXT_RUNTIME !== "nodejs" || !process.env.WEBHOOK_URL) return;
  if (process.env.NEXT_PHASE === "phase-production-build") return;
  const { demo } = await import("./lib/demo");
  try {
    void demo().stepup.http;
  } catch (error) {
    // The first request reports it again (500, logged): the server itself still starts.
    console.error("demo: stepup could not start:", error instanceof Error ? error.message : error);
  }
}
