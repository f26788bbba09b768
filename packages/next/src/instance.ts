import type { StepUpUser } from "@stepup/core";
import { createStepUpHttp, type StepUpHttp } from "@stepup/http";
import { forwardedHop, trustedHops } from "./client-address.js";
import type { NextStepUpOptions } from "./create-step-up.js";

/** What one process serves for one basePath: created on first use, then shared. */
export interface Instance {
  http: StepUpHttp;
  getUser: NextStepUpOptions["getUser"];
  hops: number;
  trustedOrigins: readonly string[];
  ipOf(request: Request): string | undefined;
  log(message: string, meta?: Record<string, unknown>): void;
}

/** The parts of the options two registrations of one basePath must agree on. */
function fingerprint(options: NextStepUpOptions): Record<string, unknown> {
  const secrets = typeof options.secret === "string" ? [options.secret] : options.secret;
  return {
    appName: options.appName,
    secret: JSON.stringify(secrets),
    cookie: JSON.stringify(options.cookie ?? {}),
    factors: Array.isArray(options.factors) ? options.factors.map((f) => f?.type).join(",") : undefined,
  };
}

/** Builds the instance: every option is validated here, on first use, naming a bad one. */
function build(options: NextStepUpOptions): Instance {
  if (typeof options?.getUser !== "function")
    throw new TypeError("stepup: option `getUser` must be a function");
  const { getUser, trustProxy, clientIp, ...httpOptions } = options;
  if (clientIp !== undefined && typeof clientIp !== "function")
    throw new TypeError("stepup: option `clientIp` must be a function");
  const hops = trustedHops(trustProxy);
  const http = createStepUpHttp(httpOptions);
  const logger = http.engine.config.logger;
  if (!clientIp && hops === 0) {
    logger.warn(
      "the client address is unknown (Next route handlers see no socket address): per-address guessing limits are off. Set `trustProxy` to the number of proxies that append X-Forwarded-For, or `clientIp(request)`.",
    );
  }
  return {
    http,
    getUser,
    hops,
    trustedOrigins: options.trustedOrigins ?? [],
    ipOf: (request) =>
      clientIp ? clientIp(request) : forwardedHop(request.headers.get("x-forwarded-for"), hops),
    log: (message, meta) => logger.error(message, meta ?? {}),
  };
}

const REGISTRY = Symbol.for("@stepup/next:instances");
type Registry = Map<string, { instance: Instance; fingerprint: Record<string, unknown> }>;

/**
 * The process's instance for these options' basePath, created on first use. Next evaluates a
 * module once per bundle (route handlers and Server Actions are bundled apart), so `createStepUp`
 * runs more than once per process: every call with the same basePath shares one engine, one store
 * and one cookie cache, or a user enrolled through the API would be unknown to a Server Action.
 * Nothing is validated before first use: `next build` loads route modules without the runtime
 * environment (no secret yet).
 * @throws TypeError for a bad option, or two registrations of one basePath that disagree
 */
export function lazyInstance(options: NextStepUpOptions, shared: boolean): () => Instance {
  let own: Instance | undefined;
  return () => {
    if (own) return own;
    if (!shared) {
      own = build(options);
      return own;
    }
    const slot = globalThis as typeof globalThis & { [REGISTRY]?: Registry };
    const registry: Registry = slot[REGISTRY] ?? new Map();
    slot[REGISTRY] = registry;
    const key = options?.basePath ?? "/stepup";
    const mine = fingerprint(options);
    const found = registry.get(key);
    if (found) {
      const differs = Object.keys(mine).find((k) => mine[k] !== found.fingerprint[k]);
      if (differs) {
        throw new TypeError(
          `stepup: two createStepUp() calls serve basePath ${key} with a different \`${differs}\`: create it once, in one module, and import that`,
        );
      }
      own = found.instance;
      return own;
    }
    own = build(options);
    registry.set(key, { instance: own, fingerprint: mine });
    return own;
  };
}

/** The signed-in user per the app's getUser, or null. */
export async function userOf(instance: Instance, request: Request): Promise<StepUpUser | null> {
  return (await instance.getUser(request)) ?? null;
}
