import { cardHead, hiddenField, icons, safeUrl } from "./components.js";
import { html, raw } from "./html.js";
import { layout } from "./layout.js";
import type { ResubmitPageData } from "./page-types.js";

const FORM_ID = "stepup-resubmit";

// A constant script, no data spliced in. It calls the prototype's submit() because a field named
// "submit" (or "id") in the original form would shadow `form.submit` / `form.id` on the element.
const AUTO_SUBMIT = `HTMLFormElement.prototype.submit.call(document.getElementById("${FORM_ID}"));`;

/**
 * After a successful step-up, re-posts the interrupted form: its fields as hidden inputs, sent
 * automatically by one nonce'd inline script, or by the "Continue" button when JavaScript is off.
 *
 * @example
 * renderResubmitPage({ ...base, action: "/account/delete?confirm=1", fields: [["reason", "moving"]] });
 */
export function renderResubmitPage(data: ResubmitPageData): string {
  const fields = data.fields.map(([name, value]) => hiddenField(name, value));
  const body = html`${cardHead(icons.check, "Verified", "Thanks for confirming. Continuing where you left off…", "ok")}
<form id="${FORM_ID}" method="post" action="${safeUrl(data.action, "/")}">
${fields}
<button type="submit" class="button button-primary button-block">Continue</button>
</form>
<p class="resubmit-note">If nothing happens, select Continue.</p>
<script nonce="${data.nonce}">${raw(AUTO_SUBMIT)}</script>`;
  return layout({ appName: data.appName, nonce: data.nonce, title: "Verified", body });
}
