export { renderChallengePage } from "./challenge-page.js";
export { renderConsolePage } from "./console-page.js";
export { escapeHtml, type HtmlValue, html, jsonScript, raw, SafeHtml } from "./html.js";
export { type LayoutOptions, layout } from "./layout.js";
export { renderMessagePage } from "./message-page.js";
export type {
  ChallengePageData,
  ConsoleActivity,
  ConsoleDevice,
  ConsoleMethod,
  ConsolePageData,
  MessagePageData,
  PageBase,
  PageCodeSent,
  PageFactor,
  PendingEnrollment,
  ResubmitPageData,
} from "./page-types.js";
export { renderResubmitPage } from "./resubmit-page.js";
