// What the modal makes of the offered factors, without the DOM: reading them from untrusted JSON,
// grouping them, and the attributes and words of a code field. Nothing here knows a factor type by
// name: everything comes from the factor's declared `prompt`.
import type { CodePrompt, FactorPrompt, OfferedFactor } from "./types.js";

type Json = Record<string, unknown>;
const object = (v: unknown): Json => (typeof v === "object" && v !== null ? (v as Json) : {});
const text = (v: unknown, max = 500): string | undefined =>
  typeof v === "string" && v.length > 0 && v.length <= max ? v : undefined;
const count = (v: unknown, max: number): number | undefined =>
  typeof v === "number" && Number.isInteger(v) && v >= 1 && v <= max ? v : undefined;

/** A factor's prompt from JSON; anything unreadable is a plain code field (as core offers one). */
export function readPrompt(value: unknown): FactorPrompt {
  const p = object(value);
  if (p.kind === "webauthn") return { kind: "webauthn" };
  const prompt: CodePrompt = { kind: "code", label: text(p.label, 200) ?? "Code" };
  const hint = text(p.hint);
  const digits = count(p.digits, 16);
  const maxLength = count(p.maxLength, 256);
  const placeholder = text(p.placeholder, 64);
  const submit = text(p.submit, 64);
  if (hint) prompt.hint = hint;
  if (digits) prompt.digits = digits;
  if (maxLength) prompt.maxLength = maxLength;
  if (placeholder) prompt.placeholder = placeholder;
  if (p.send === true) prompt.send = true;
  if (submit) prompt.submit = submit;
  return prompt;
}

/** Reads the `factors` array of an API body, dropping malformed entries. */
export function readFactors(value: unknown): OfferedFactor[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((f: unknown): OfferedFactor[] => {
    const r = object(f);
    if (typeof r.id !== "string" || typeof r.type !== "string") return [];
    const name = typeof r.name === "string" ? r.name : r.type;
    const factor: OfferedFactor = {
      id: r.id,
      type: r.type,
      name,
      primary: r.primary === true,
      title: text(r.title, 200) ?? name,
      prompt: readPrompt(r.prompt),
    };
    const destination = text(r.destination, 320);
    if (destination) factor.destination = destination;
    if (r.recovery === true) factor.recovery = true;
    return [factor];
  });
}

/**
 * The days "Remember this device" lasts, from a challenge's untrusted JSON (`trustedDeviceDays`): a
 * whole number from 1 to 400 (the server's own bounds); anything else means the box is not offered.
 */
export function readTrustedDeviceDays(value: unknown): number | undefined {
  return count(value, 400);
}

/** The remember box's words: "Remember this device for 30 days" (or "for 1 day"). */
export function rememberText(days: number): string {
  return `Remember this device for ${days === 1 ? "1 day" : `${days} days`}`;
}

/** A verify body: the factor and code, and `rememberDevice: true` only when the user ticked the box. */
export function verifyBody(factor: OfferedFactor, code: string, remember: boolean): Record<string, unknown> {
  return { factor: factor.type, factorId: factor.id, code, ...(remember ? { rememberDevice: true } : {}) };
}

/** A code factor: one whose prompt is a typed code. */
export type CodeFactor = OfferedFactor & { prompt: CodePrompt };
const isCode = (f: OfferedFactor): f is CodeFactor => f.prompt.kind === "code";

/** The offered factors as the modal lays them out. */
export interface FactorPlan {
  /** WebAuthn factors, when this browser can run the ceremony. */
  keys: OfferedFactor[];
  /** WebAuthn factors this browser cannot use. */
  unusableKeys: number;
  /** Code factors (not recovery) by type, primary first: the first group is the main form. */
  groups: CodeFactor[][];
  /** The recovery path, folded unless nothing else is usable. */
  recovery?: CodeFactor;
}

/** Groups the offered factors: primary first, code factors by type, recovery apart. */
export function planFactors(factors: readonly OfferedFactor[], passkeys: boolean): FactorPlan {
  // A stable sort: the server's order otherwise.
  const ordered = [...factors].sort((a, b) => Number(b.primary) - Number(a.primary));
  const keys = ordered.filter((f) => f.prompt.kind === "webauthn");
  const groups = new Map<string, CodeFactor[]>();
  for (const f of ordered) {
    if (!isCode(f) || f.recovery) continue;
    const group = groups.get(f.type);
    if (group) group.push(f);
    else groups.set(f.type, [f]);
  }
  const recovery = ordered.filter(isCode).find((f) => f.recovery);
  return {
    keys: passkeys ? keys : [],
    unusableKeys: passkeys ? 0 : keys.length,
    groups: [...groups.values()],
    ...(recovery ? { recovery } : {}),
  };
}

/**
 * The code input's attributes: a numeric code gets the keypad, one-time-code autofill and its exact
 * length; any other code is plain text up to its `maxLength`.
 */
export function codeInputAttrs(prompt: CodePrompt): Record<string, string> {
  const common = { spellcheck: "false", ...(prompt.placeholder ? { placeholder: prompt.placeholder } : {}) };
  if (prompt.digits) {
    const n = String(prompt.digits);
    return {
      inputmode: "numeric",
      autocomplete: "one-time-code",
      pattern: "[0-9]*",
      minlength: n,
      maxlength: n,
      placeholder: "0".repeat(prompt.digits),
      ...common,
      class: "su-code",
    };
  }
  return {
    type: "text",
    autocomplete: prompt.send ? "one-time-code" : "off",
    autocapitalize: "off",
    ...(prompt.maxLength ? { maxlength: String(prompt.maxLength) } : {}),
    ...common,
  };
}

/**
 * The hint under a code field, as plain text: the modal does not know the app's name, so
 * "… for {appName}" loses those words (any other `{appName}` reads "this site"), and `{destination}`
 * is where the code went. A hint naming a destination that is not known yet is not shown.
 */
export function hintText(prompt: CodePrompt, destination?: string): string | undefined {
  if (!prompt.hint) return undefined;
  const hint = prompt.hint
    .replace(/\s+(?:for|from|in|on|at|by|to)\s+\{appName\}/g, "")
    .replace(/\{appName\}/g, "this site");
  if (!hint.includes("{destination}")) return hint;
  if (!destination) return undefined;
  // A replacer function: `$&` and the like in the destination stay literal.
  return hint.replace(/\{destination\}/g, () => destination);
}

/**
 * When a resend is allowed, from a start answer (`resendAfter`, an ISO time), in this browser's
 * clock; at most 10 minutes ahead, so a wrong server clock cannot lock the button for long.
 */
export function resendAtMs(body: Record<string, unknown>, nowMs: number): number {
  const at = typeof body.resendAfter === "string" ? Date.parse(body.resendAfter) : Number.NaN;
  if (!Number.isFinite(at)) return nowMs;
  return Math.min(Math.max(at, nowMs), nowMs + 600_000);
}
