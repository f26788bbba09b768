export {
  type AdminTarget,
  adminForbiddenPage,
  adminsFromEnv,
  adminUsersPage,
  type DemoAdmins,
  isAdmin,
} from "./admin.js";
export { DEMO_CSS, demoPage, Html, html, htmlResponse, resultPage } from "./demo-page.js";
export {
  type DemoPolicy,
  demoRules,
  describePolicy,
  POLICY_REQUIREMENTS,
  passLine,
  policyFromEnv,
  stepupPolicy,
  TRANSFER_LIMIT,
} from "./policy.js";
export { type DemoRedisConfig, redisConfigFromEnv } from "./redis-config.js";
export {
  DEMO_MAIL_FROM,
  type DemoEmailMessage,
  type DemoSenders,
  type Print,
  printEmail,
  printSms,
  SMS_WEBHOOK_TIMEOUT_MS,
  sendersFromEnv,
  webhookSms,
} from "./senders.js";
export {
  DEMO_TOKEN_AUDIENCE,
  DEV_TOKEN_KEY,
  demoTokens,
  tokenKeyFromEnv,
  userFromStepUpToken,
} from "./tokens.js";
export { describeTransfer, parseTransfer, type Transfer } from "./transfer.js";
export { createUsers, type DemoUser } from "./users.js";
export { type DemoWebhooks, webhooksFromEnv } from "./webhooks.js";
