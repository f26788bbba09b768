import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SESSION_SECRET, STEPUP_SECRET, STEPUP_TOKEN_KEY } from "./demo.js";
import { freePort, startRetrying, supervise } from "./process.js";

const APP = fileURLToPath(new URL("../../examples/next/", import.meta.url));
const START = `${APP}scripts/start.mjs`;
const MANIFEST = `${APP}.next/server/server-reference-manifest.json`;

/** The built Next demo (`next start` through examples/next/scripts/start.mjs) that a test owns. */
export interface NextDemo {
  /** `http://localhost:<port>`: the host the browser sees, so WebAuthn and Origin checks line up. */
  readonly origin: string;
  /** `node scripts/start.mjs`: `next start` (the `next-server` process) runs as its child. */
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/**
 * Starts the built Next demo on a free port and waits until it answers (again on another port when
 * the one found free was taken before Next bound it: see `startRetrying`).
 */
export function startNextDemo(env: Record<string, string> = {}, timeoutMs = 30_000): Promise<NextDemo> {
  if (!existsSync(MANIFEST))
    throw new Error("examples/next is not built: pnpm turbo run build --filter @stepup/example-next...");
  return startRetrying(async () => startNextOn(await freePort(), env, timeoutMs));
}

async function startNextOn(port: number, env: Record<string, string>, timeoutMs: number): Promise<NextDemo> {
  const child = spawn(process.execPath, [START], {
    cwd: APP,
    env: {
      ...process.env,
      NODE_ENV: "production",
      PORT: String(port),
      HOST: "localhost",
      SESSION_SECRET,
      STEPUP_SECRET,
      STEPUP_TOKEN_KEY,
      NEXT_TELEMETRY_DISABLED: "1",
      // Passkeys default to `origin` below, whatever the shell running the tests exports.
      STEPUP_ORIGIN: "",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const supervised = supervise(child);
  const { stop } = supervised;
  const origin = `http://localhost:${port}`;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`next demo exited with ${child.exitCode}:\n${supervised.output()}`);
    // Next's own "Ready" line first: a 200 alone could come from whoever took the port.
    const up =
      /\bReady\b/.test(supervised.output()) &&
      (await fetch(`${origin}/`, { signal: AbortSignal.timeout(2_000) }).then(
        (r) => r.status === 200,
        () => false,
      ));
    if (up) break;
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`next demo did not start within ${timeoutMs} ms:\n${supervised.output()}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { origin, child, output: supervised.output, stop };
}

/** The id Next gave a Server Action at build time (what a browser sends as `Next-Action`). */
export function serverActionId(exportedName: string): string {
  const manifest = JSON.parse(readFileSync(MANIFEST, "utf8")) as {
    node: Record<string, { exportedName?: string }>;
  };
  const hit = Object.entries(manifest.node).find(([, v]) => v.exportedName === exportedName);
  if (!hit) throw new Error(`no server action ${exportedName} in ${MANIFEST}`);
  return hit[0];
}

/** Reads the value of a Server Action's RSC response (the `1:` row that holds the returned JSON). */
export function actionValue(text: string): Record<string, unknown> | undefined {
  const row = text.split("\n").find((line) => line.startsWith("1:"));
  if (!row) return undefined;
  try {
    return JSON.parse(row.slice(2)) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}
