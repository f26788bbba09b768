/** What a code is for: a step-up (with the rule's words) or confirming a new address or number. */
export type CodePurpose =
  | { kind: "step-up"; resource: string; action: string; label?: string; description?: string }
  | { kind: "enroll" };

/** What a code message is built from. Never logged. */
export interface CodeMessageInput {
  appName: string;
  code: string;
  purpose: CodePurpose;
  /** Minutes until the code stops working (rounded up). */
  expiresInMinutes: number;
  expiresAt: Date;
}

/** An email: subject, plain text and HTML (the app's own strings can replace stepup's). */
export interface EmailContent {
  subject: string;
  text: string;
  html: string;
}

/** A security notice: something changed on the account, said without any code or secret. */
export interface SecurityNotice {
  type: "factor.added" | "factor.removed" | "recovery.used" | "lockout" | "device.trusted" | "user.reset";
  appName: string;
  user: { id: string; email?: string; phone?: string; name?: string };
  at: Date;
  /** The factor concerned (added, removed), in words. */
  factor?: { type: string; title: string; name: string };
  /** The client address of the request, when known. */
  ip?: string;
  /** A newly trusted device, in words ("Chrome on macOS"). */
  device?: string;
}

/** `"to open the admin panel"`, `"to delete account"`, or (enrolling) what is being confirmed. */
export function purposeText(purpose: CodePurpose, confirming: string): string {
  if (purpose.kind === "enroll") return `to confirm ${confirming}`;
  const what = purpose.label ?? `${purpose.action} ${purpose.resource}`;
  return purpose.description ? `to ${what}: ${purpose.description}` : `to ${what}`;
}

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};

/** Escapes text for HTML mail: every value from the app or the user is text, never markup. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

const minutes = (n: number) => `${n} minute${n === 1 ? "" : "s"}`;

/** A simple, accessible HTML mail body around paragraphs of (already escaped) HTML. */
export function htmlMail(title: string, paragraphs: readonly string[]): string {
  const body = paragraphs.map((p) => `<p style="margin:0 0 16px">${p}</p>`).join("\n");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>
<body style="font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;font-size:16px;line-height:1.5;color:#1f2937;margin:0;padding:24px">
<div style="max-width:480px;margin:0 auto">
${body}
</div></body></html>`;
}

/** The default email with a code: names the app, the code, what it is for and when it expires. */
export function defaultCodeEmail(input: CodeMessageInput): EmailContent {
  const purpose = purposeText(input.purpose, "this email address");
  const expiry = `It expires in ${minutes(input.expiresInMinutes)}.`;
  const warning =
    "If you didn't ask for this, someone may know your password: don't share this code, and change your password.";
  const app = escapeHtml(input.appName);
  return {
    subject: `Your ${input.appName} verification code`,
    text: `Your ${input.appName} verification code is ${input.code}.\n\nUse it ${purpose}. ${expiry}\n\n${warning}\n`,
    html: htmlMail(`Your ${app} verification code`, [
      `Your ${app} verification code is:`,
      `<strong style="font-size:28px;letter-spacing:4px;font-family:ui-monospace,Menlo,monospace">${escapeHtml(input.code)}</strong>`,
      `Use it ${escapeHtml(purpose)}. ${escapeHtml(expiry)}`,
      `<span style="color:#6b7280">${escapeHtml(warning)}</span>`,
    ]),
  };
}

/** The default SMS: one short line with the code first (lock-screen previews show the start). */
export function defaultCodeSms(input: CodeMessageInput): string {
  const purpose = purposeText(input.purpose, "this phone number");
  return `${input.code} is your ${input.appName} code ${purpose}. It expires in ${input.expiresInMinutes} min. Don't share it.`;
}

const NOTICE_LINES: Record<SecurityNotice["type"], (n: SecurityNotice) => string> = {
  "factor.added": (n) =>
    `A new two-step verification method was added to your ${n.appName} account: ${n.factor?.title ?? "a method"} ("${n.factor?.name ?? ""}").`,
  "factor.removed": (n) =>
    `A two-step verification method was removed from your ${n.appName} account: ${n.factor?.title ?? "a method"} ("${n.factor?.name ?? ""}").`,
  "recovery.used": (n) => `One of your ${n.appName} recovery codes was just used to confirm it's you.`,
  "device.trusted": (n) =>
    `A device will skip some verification steps on your ${n.appName} account for a while: ${n.device ?? "a browser"} ("remember this device").`,
  lockout: (n) =>
    `Two-step verification on your ${n.appName} account is locked after too many wrong codes. Use a recovery code to get back in, or contact support.`,
  "user.reset": (n) =>
    `An administrator reset two-step verification on your ${n.appName} account: your verification methods, recovery codes and remembered devices were removed.`,
};

const ADVICE =
  "If this was you, there is nothing to do. If it wasn't, change your password now and contact support.";

/** What to do next, where the usual advice does not fit (nobody "did" a reset themselves). */
const NOTICE_ADVICE: Partial<Record<SecurityNotice["type"], string>> = {
  "user.reset":
    "If you asked for this, set up two-step verification again. If you didn't, contact support now: someone may be trying to take over your account.",
};

/** The default security notice email. */
export function defaultNoticeEmail(notice: SecurityNotice): EmailContent {
  const line = NOTICE_LINES[notice.type](notice);
  const when = `When: ${notice.at.toISOString().replace("T", " ").slice(0, 16)} UTC${notice.ip ? `, from ${notice.ip}` : ""}.`;
  const advice = NOTICE_ADVICE[notice.type] ?? ADVICE;
  const subject = `Security notice for your ${notice.appName} account`;
  return {
    subject,
    text: `${line}\n\n${when}\n\n${advice}\n`,
    html: htmlMail(escapeHtml(subject), [escapeHtml(line), escapeHtml(when), escapeHtml(advice)]),
  };
}
