// A new Express app using stepup the way the root README shows. Its own login is a toy (a random
// session id in a cookie), standing for "your existing auth".
import { randomUUID } from "node:crypto";
import { memoryStore, type Store, totp } from "@stepup/core";
import { stepUp } from "@stepup/express";
import { redisStore } from "@stepup/redis";
import express, { type NextFunction, type Request, type Response } from "express";
import { Redis } from "ioredis";

declare global {
  namespace Express {
    interface Request {
      user?: { id: string; email: string };
    }
  }
}

const sessions = new Map<string, { id: string; email: string }>();

function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.get("cookie") ?? "").split(";")) {
    const [key, ...value] = part.trim().split("=");
    if (key === name) return value.join("=");
  }
  return undefined;
}

const redis = process.env.REDIS_URL
  ? new Redis(process.env.REDIS_URL, { maxRetriesPerRequest: 1 })
  : undefined;
const store: Store = redis ? redisStore({ client: redis, keyPrefix: "consumer" }) : memoryStore();

const stepup = stepUp({
  store,
  secret: "consumer-test-stepup-secret-0123456789abcdef",
  appName: "Consumer",
  // `x-fail-auth` stands for an auth backend that is down: the failure must reach the app's error
  // handler on Express 4 too (which does not catch rejected promises from middleware).
  getUser: (req) =>
    req.get("x-fail-auth")
      ? Promise.reject(new Error("auth backend down"))
      : req.user
        ? { id: req.user.id, email: req.user.email }
        : null,
  factors: [totp()],
});

const app = express();
app.use(express.urlencoded({ extended: false }), express.json());
app.use((req, _res, next) => {
  const user = sessions.get(cookie(req, "sid") ?? "");
  if (user) req.user = user;
  next();
});
app.post("/login", (req, res) => {
  const name = typeof req.body?.name === "string" ? req.body.name : "";
  if (!/^[a-z]{1,32}$/.test(name)) {
    res.status(400).json({ error: "bad name" });
    return;
  }
  const sid = randomUUID();
  sessions.set(sid, { id: name, email: `${name}@example.com` });
  res.setHeader("set-cookie", `sid=${sid}; Path=/; HttpOnly; SameSite=Lax`);
  res.json({ ok: true });
});
app.use("/stepup", stepup.router);
app.get("/admin", stepup.requireStepUp({ resource: "admin", action: "read", maxAge: 900 }), (req, res) => {
  res.json({ admin: true, verifiedAt: req.stepUp?.verifiedAt, factor: req.stepUp?.factor });
});
app.post("/logout", async (req, res) => {
  await stepup.clear(req, res);
  res.json({ ok: true });
});
app.use(stepup.errorHandler);
app.use((error: unknown, _req: Request, res: Response, _next: NextFunction) => {
  console.error(`app error handler: ${error instanceof Error ? error.message : String(error)}`);
  res.status(500).json({ error: "internal" });
});

const server = app.listen(0, "127.0.0.1", () => {
  const address = server.address();
  if (address && typeof address === "object") console.log(`listening ${address.port}`);
});
process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  void redis?.quit();
});
