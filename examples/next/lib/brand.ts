/** What the Next demo's own pages are called, beside the Express demo's "Stepup demo". */
export const BRAND = "Stepup demo (Next.js)";
