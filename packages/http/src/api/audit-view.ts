import { type AuditEntry, StepUpError } from "@stepup/core";

/** An audit entry as a client sees it (the chain and the user id stay server-side). */
export type AuditView = Pick<AuditEntry, "id" | "type" | "at" | "severity"> &
  Partial<Record<"ip" | "resource" | "action" | "factor" | "factorId" | "tag" | "status", string>> & {
    metadata?: AuditEntry["metadata"];
  };

/**
 * Picks an entry's public fields, one by one: the chain (`seq`, `prev`, `mac`) is for
 * `verifyAuditChain`, and `userId` says nothing the caller needs; a new core field stays private
 * until listed here. `factorId` only when asked (an administrator matches it with the factors).
 */
export function auditView(entry: AuditEntry, withFactorId = false): AuditView {
  const e: AuditEntry &
    Partial<Record<"resource" | "action" | "factor" | "factorId" | "tag" | "status", string>> = entry;
  return {
    id: e.id,
    type: e.type,
    at: e.at,
    severity: e.severity,
    ...(e.ip === undefined ? {} : { ip: e.ip }),
    ...(e.resource === undefined ? {} : { resource: e.resource }),
    ...(e.action === undefined ? {} : { action: e.action }),
    ...(e.factor === undefined ? {} : { factor: e.factor }),
    ...(withFactorId && e.factorId !== undefined ? { factorId: e.factorId } : {}),
    ...(e.tag === undefined ? {} : { tag: e.tag }),
    ...(e.status === undefined ? {} : { status: e.status }),
    ...(e.metadata === undefined ? {} : { metadata: e.metadata }),
  };
}

/**
 * `?limit=1..max`, or `fallback`; anything else is a 400 (not silently clamped: a typo should show).
 * @throws StepUpError INVALID_INPUT naming `limit`
 */
export function auditLimit(url: URL, max: number, fallback = max): number {
  const raw = url.searchParams.get("limit");
  if (raw === null) return fallback;
  if (!/^[1-9][0-9]{0,2}$/.test(raw) || Number(raw) > max)
    throw new StepUpError("INVALID_INPUT", `\`limit\` must be a whole number from 1 to ${max}.`, {
      field: "limit",
    });
  return Number(raw);
}
