/**
 * `alice@example.com` -> `a***@example.com`: enough for the user to recognise their address, not
 * enough for someone reading over their shoulder (or a response log) to learn it.
 */
export function maskEmail(address: string): string {
  const at = address.lastIndexOf("@");
  return `${address.slice(0, 1)}***${address.slice(at)}`;
}

/** `+15551234567` -> `+1********67`: the country code and the last two digits. */
export function maskPhone(phone: string, countryCode: string): string {
  const rest = phone.length - 1 - countryCode.length;
  return `+${countryCode}${"*".repeat(Math.max(0, rest - 2))}${phone.slice(-2)}`;
}
