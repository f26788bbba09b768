import { randomBytes, scryptSync, timingSafeEqual } from "node:crypto";
import type { Store } from "@stepup/core";

/** The demo's toy user directory, kept in the same store so every demo process sees the same users. */
export interface DemoUser {
  id: string;
  email: string;
  passwordHash: string;
}

const SCOPE = "demo-users";

function hashPassword(password: string, salt = randomBytes(16).toString("base64url")): string {
  return `${salt}.${scryptSync(password, salt, 32).toString("base64url")}`;
}

function checkPassword(password: string, stored: string): boolean {
  const [salt = "", digest = ""] = stored.split(".");
  const actual = Buffer.from(hashPassword(password, salt).split(".")[1] ?? "");
  const expected = Buffer.from(digest);
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

export function createUsers(store: Store) {
  async function find(email: string): Promise<DemoUser | undefined> {
    const all = await store.hashGetAll(SCOPE, "users");
    const raw = all[email.toLowerCase()];
    return raw ? (JSON.parse(raw) as DemoUser) : undefined;
  }
  /** The user with this id (the sign-in second factor hands back an id). A toy: it reads them all. */
  async function findById(id: string): Promise<DemoUser | undefined> {
    const all = await store.hashGetAll(SCOPE, "users");
    for (const raw of Object.values(all)) {
      const user = JSON.parse(raw) as DemoUser;
      if (user.id === id) return user;
    }
    return undefined;
  }
  return {
    find,
    async signup(email: string, password: string): Promise<DemoUser | undefined> {
      const key = email.toLowerCase();
      // setIfAbsent makes concurrent sign-ups with one address race safely.
      const claimed = await store.setIfAbsent(SCOPE, `claim:${key}`, "1", 31_536_000);
      if (!claimed || (await find(key))) return undefined;
      const user: DemoUser = {
        id: randomBytes(9).toString("base64url"),
        email: key,
        passwordHash: hashPassword(password),
      };
      await store.hashSet(SCOPE, "users", key, JSON.stringify(user));
      return user;
    },
    async login(email: string, password: string): Promise<DemoUser | undefined> {
      const user = await find(email);
      return user && checkPassword(password, user.passwordHash) ? user : undefined;
    },
    findById,
    /** The admin page's lookup: by email (anything with an @), else by id. */
    async lookup(emailOrId: string): Promise<DemoUser | undefined> {
      return emailOrId.includes("@") ? find(emailOrId) : findById(emailOrId);
    },
    /** Replaces the password when `current` is right; false otherwise. */
    async changePassword(email: string, current: string, next: string): Promise<DemoUser | undefined> {
      const user = await find(email);
      if (!user || !checkPassword(current, user.passwordHash)) return undefined;
      const changed = { ...user, passwordHash: hashPassword(next) };
      await store.hashSet(SCOPE, "users", user.email, JSON.stringify(changed));
      return changed;
    },
  };
}
