import { StepUpError } from "../../errors.js";

/**
 * ITU-T E.164 country codes are prefix-free: 1 and 7 have one digit, these have two, every other
 * has three. Enough to find a number's country without a numbering-plan table.
 */
const TWO_DIGIT = new Set(
  "20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98".split(
    " ",
  ),
);

/** The calling code of an E.164 number (`+447700900123` -> `44`). */
export function countryCode(phone: string): string {
  const digits = phone.slice(1);
  if (digits.startsWith("1") || digits.startsWith("7")) return digits.slice(0, 1);
  return TWO_DIGIT.has(digits.slice(0, 2)) ? digits.slice(0, 2) : digits.slice(0, 3);
}

const E164 = /^\+[1-9][0-9]{7,14}$/;

/**
 * A phone number from untrusted input, in E.164 (`+` and 8 to 15 digits; spaces, dots, dashes and
 * brackets people type are dropped first).
 * @throws StepUpError INVALID_INPUT (field `phone`) for anything else, before any message is sent
 */
export function readPhone(input: unknown): string {
  const raw = typeof input === "object" && input !== null ? (input as { phone?: unknown }).phone : undefined;
  if (typeof raw !== "string" || raw.length > 32) {
    throw new StepUpError("INVALID_INPUT", "`phone` must be a phone number in E.164 form (+15551234567).", {
      field: "phone",
    });
  }
  const phone = raw.replace(/[\s.\-()]/g, "");
  if (!E164.test(phone)) {
    throw new StepUpError("INVALID_INPUT", "`phone` must be a phone number in E.164 form (+15551234567).", {
      field: "phone",
    });
  }
  return phone;
}
