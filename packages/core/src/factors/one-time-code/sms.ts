import type { LimitOptions } from "../../config.js";
import { StepUpError } from "../../errors.js";
import type { FactorPlugin, FactorUi } from "../factor.js";
import { type CodeFactorOptions, createCodeFactor } from "./code-factor.js";
import { maskPhone } from "./mask.js";
import { type CodeMessageInput, defaultCodeSms } from "./messages.js";
import { secondsOption } from "./options.js";
import { countryCode, readPhone } from "./phone.js";
import { resolveSendLimits, type SendLimitOptions } from "./send-limits.js";

/** Options of `sms()`. */
export interface SmsOptions extends CodeFactorOptions {
  /** Sends one text message (your provider's API). Throw on failure. */
  send(phone: string, text: string): Promise<void>;
  /** The text of a code message: replace it to translate or rebrand. */
  message?(input: CodeMessageInput): string;
  /**
   * Calling codes numbers may have (`["1", "44"]`): every other country is refused before any
   * send. SMS pumping fraud sends codes to premium-rate ranges abroad. @default every country
   */
  countries?: readonly string[];
  limits?: SendLimitOptions & {
    /** Codes sent to one country calling code, across all users (SMS pumping). @default { max: 100, windowSeconds: 3600 } */
    perCountry?: LimitOptions;
  };
}

const UI: FactorUi = Object.freeze<FactorUi>({
  title: "Text message (SMS)",
  prompt: {
    kind: "code",
    label: "Code from the text message",
    hint: "Enter the 6-digit code we texted to {destination}.",
    digits: 6,
    placeholder: "000000",
    send: true,
  },
  enroll: {
    button: "Add phone (SMS)",
    title: "Confirm your phone number",
    fields: [
      {
        name: "phone",
        label: "Phone number",
        type: "tel",
        autocomplete: "tel",
        required: true,
        hint: "With the country code, like +1 555 123 4567.",
        placeholder: "+15551234567",
        fromUser: "phone",
      },
    ],
    confirmLabel: "Code from the text message",
  },
  restricted:
    "Text messages are a restricted method (NIST SP 800-63B): a SIM swap or a hijacked number can receive your codes. Prefer a passkey or an authenticator app.",
});

/**
 * One-time codes by text message, through your `send(phone, text)`. The same code rules as
 * `email()`; numbers are validated as E.164 before anything is sent; sends are limited per user,
 * per number, per client address and per country calling code (SMS pumping), and `countries`
 * can allow only some. A restricted authenticator (NIST SP 800-63B rev 4): the console says so,
 * and a rule refuses it by leaving it out of `factors`.
 *
 * @throws TypeError at construction, naming a bad option (`send`, `codeTtl`, `sendTimeout`,
 *   `countries`, `limits.*`).
 * @example
 * createStepUp({ ..., factors: [totp(), sms({ send: (phone, text) => provider.send(phone, text) })] })
 */
export function sms(options: SmsOptions): FactorPlugin {
  if (typeof options?.send !== "function") throw new TypeError("sms: `send(phone, text)` is required");
  const countries = options.countries;
  if (
    countries !== undefined &&
    (!Array.isArray(countries) || !countries.every((c) => /^[1-9][0-9]{0,2}$/.test(c)))
  )
    throw new TypeError('sms: `countries` must be calling codes like ["1", "44"]');
  const limits = resolveSendLimits("sms", options.limits);
  const perCountry = resolveSendLimits("sms", {
    perUser: options.limits?.perCountry ?? { max: 100, windowSeconds: 3600 },
  }).perUser;
  const text = options.message ?? defaultCodeSms;
  const send = options.send;
  return createCodeFactor({
    type: "sms",
    ui: UI,
    amr: Object.freeze(["sms"]),
    codeTtlSeconds: secondsOption("sms: `codeTtl`", options.codeTtl, 300, 60, 600),
    sendTimeoutMs: secondsOption("sms: `sendTimeout`", options.sendTimeout, 10, 1, 60) * 1000,
    limits,
    readDestination(_ctx, input) {
      const phone = readPhone(input);
      if (countries && !countries.includes(countryCode(phone)))
        throw new StepUpError("INVALID_INPUT", "Text messages cannot be sent to this country.", {
          field: "phone",
        });
      return phone;
    },
    mask: (phone) => maskPhone(phone, countryCode(phone)),
    extraBuckets: (phone) => [{ key: `sends-country:${countryCode(phone)}`, limit: perCountry }],
    deliver: (phone, input) => send(phone, text(input)),
    label: "sms",
  });
}
