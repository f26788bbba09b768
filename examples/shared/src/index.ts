export { DEMO_CSS, demoPage, Html, html, htmlResponse, resultPage } from "./demo-page.js";
export { describeTransfer, parseTransfer, type Transfer } from "./transfer.js";
export { createUsers, type DemoUser } from "./users.js";
