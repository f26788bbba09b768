import { StepUpError } from "../errors.js";
import { clientGroup } from "../internal/client-address.js";
import type { EngineContext } from "../internal/engine-context.js";
import { keys } from "../internal/keys.js";
import { parseRecord } from "../internal/records.js";
import type { StepUpUser } from "../types.js";
import { deviceName } from "./device-name.js";

/** A device a user verified on: seen (the `newDevice` trigger), and trusted until a time if remembered. */
export interface DeviceRecord {
  id: string;
  /** Keyed hash of the cookie's random token: a copy of the store cannot mint the cookie. */
  tokenHash: string;
  name: string;
  createdAtMs: number;
  lastUsedAtMs: number;
  /** "Remember this device" until then (ms); null when only seen. */
  trustedUntilMs: number | null;
}

/** A trusted device as the console and `GET /stepup/api/devices` list it. */
export interface DeviceSummary {
  id: string;
  /** Browser and system from the User-Agent ("Chrome on macOS"). */
  name: string;
  createdAt: string;
  lastUsedAt: string;
  trustedUntil: string;
}

/** What the guard reads to apply trusted devices and risk triggers (one parallel round trip). */
export interface RiskView {
  devices: DeviceRecord[];
  /** Last verification per client address group (ms). */
  ips: ReadonlyMap<string, number>;
  /** When `markCredentialChange` was last called and not yet followed by a verification (ms). */
  credentialChangedAtMs: number | undefined;
}

/** The device cookie to set after a verification (name and attributes are the HTTP layer's). */
export interface DeviceCookie {
  value: string;
  maxAgeSeconds: number;
  trusted: boolean;
}

const MAX_DEVICES = 20;
const MAX_IPS = 50;
const SEEN_DAYS = 90;
const IP_DAYS = 30;
const DAY_MS = 86_400_000;
const COOKIE = /^([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]{43})$/;

const summarize = (d: DeviceRecord): DeviceSummary => ({
  id: d.id,
  name: d.name,
  createdAt: new Date(d.createdAtMs).toISOString(),
  lastUsedAt: new Date(d.lastUsedAtMs).toISOString(),
  trustedUntil: new Date(d.trustedUntilMs ?? 0).toISOString(),
});

/**
 * Devices and the risk memory of a user. The device cookie is `<id>.<token>` (96 + 256 random
 * bits); the store keeps only the token's keyed hash, in the user's own scope: a cookie copied into
 * another user's browser session finds no record there and counts for nothing.
 */
export function createDevices(ctx: EngineContext) {
  const { store, config } = ctx;

  function parseCookie(value: string | undefined): { id: string; token: string } | undefined {
    const m = value === undefined ? null : COOKIE.exec(value);
    return m?.[1] && m[2] ? { id: m[1], token: m[2] } : undefined;
  }

  function parseDevices(hash: Record<string, string>): DeviceRecord[] {
    return Object.values(hash)
      .map((raw) => parseRecord<DeviceRecord>(raw))
      .filter((d): d is DeviceRecord => typeof d?.id === "string" && typeof d.tokenHash === "string");
  }

  /** The record a cookie stands for, for this user; undefined for a forged, foreign or revoked one. */
  function deviceOf(view: Pick<RiskView, "devices">, cookie: string | undefined): DeviceRecord | undefined {
    const parsed = parseCookie(cookie);
    if (!parsed) return undefined;
    const found = view.devices.find((d) => d.id === parsed.id);
    return found && ctx.keyring.matches(parsed.token, found.tokenHash) ? found : undefined;
  }

  async function prune(uid: string, devices: DeviceRecord[], risk: Record<string, string>): Promise<void> {
    const now = ctx.now();
    const stale = devices
      .filter((d) => (d.trustedUntilMs ?? 0) < now && d.lastUsedAtMs < now - SEEN_DAYS * DAY_MS)
      .map((d) => d.id);
    const live = devices.filter((d) => !stale.includes(d.id));
    // Over the cap: drop the least recently used, merely seen ones first.
    const extra = live
      .sort(
        (a, b) =>
          Number(a.trustedUntilMs !== null) - Number(b.trustedUntilMs !== null) ||
          a.lastUsedAtMs - b.lastUsedAtMs,
      )
      .slice(0, Math.max(0, live.length - MAX_DEVICES))
      .map((d) => d.id);
    for (const id of [...stale, ...extra]) await store.hashDelete(uid, keys.devices, id);
    const ips = Object.entries(risk).filter(([f]) => f.startsWith("ip:"));
    if (ips.length > MAX_IPS) {
      const old = ips.sort((a, b) => Number(a[1]) - Number(b[1])).slice(0, ips.length - MAX_IPS);
      for (const [field] of old) await store.hashDelete(uid, keys.risk, field);
    }
  }

  return {
    parseCookie,
    deviceOf,

    /** What triggers and the trusted-device check need, read in parallel. */
    async read(uid: string): Promise<RiskView> {
      const [devices, risk] = await Promise.all([
        store.hashGetAll(uid, keys.devices),
        store.hashGetAll(uid, keys.risk),
      ]);
      const ips = new Map<string, number>();
      for (const [field, value] of Object.entries(risk))
        if (field.startsWith("ip:")) ips.set(field.slice(3), Number(value) || 0);
      const cred = Number(risk.cred);
      return {
        devices: parseDevices(devices),
        ips,
        credentialChangedAtMs: Number.isFinite(cred) && cred > 0 ? cred : undefined,
      };
    },

    /** Whether this cookie is a device the user trusted and still trusts. */
    trusted(view: Pick<RiskView, "devices">, cookie: string | undefined): DeviceRecord | undefined {
      const device = deviceOf(view, cookie);
      return device && (device.trustedUntilMs ?? 0) > ctx.now() ? device : undefined;
    },

    /** Whether an address group had a verification by the user in the last 30 days. */
    knownIp(view: Pick<RiskView, "ips">, ip: string | undefined): boolean {
      if (ip === undefined) return true; // unknown address: the trigger cannot judge, and does not fire
      const at = view.ips.get(clientGroup(ip));
      return at !== undefined && at > ctx.now() - IP_DAYS * DAY_MS;
    },

    /** Marks a trusted device used (at most once an hour: a pass must not cost a write each time). */
    async touch(uid: string, device: DeviceRecord): Promise<void> {
      if (device.lastUsedAtMs > ctx.now() - 3_600_000) return;
      await store.hashSet(
        uid,
        keys.devices,
        device.id,
        JSON.stringify({ ...device, lastUsedAtMs: ctx.now() }),
      );
    },

    /**
     * After a successful verification: this browser is now a seen device of the user (trusted for
     * `days` when `remember`), the address is known, and a credential change is answered.
     */
    async remember(
      user: StepUpUser,
      input: {
        cookie?: string | undefined;
        remember: boolean;
        userAgent?: string | undefined;
        ip?: string | undefined;
      },
    ): Promise<DeviceCookie> {
      const now = ctx.now();
      const [hash, risk] = await Promise.all([
        store.hashGetAll(user.id, keys.devices),
        store.hashGetAll(user.id, keys.risk),
      ]);
      const devices = parseDevices(hash);
      const known = deviceOf({ devices }, input.cookie);
      const days = config.policy.trustedDays;
      const trust = input.remember && days > 0;
      const token = ctx.newId(32);
      const id = known?.id ?? ctx.newId(12);
      const record: DeviceRecord = {
        id,
        tokenHash: ctx.keyring.hash(token),
        name: known?.name ?? deviceName(input.userAgent),
        createdAtMs: known?.createdAtMs ?? now,
        lastUsedAtMs: now,
        trustedUntilMs: trust ? now + days * DAY_MS : (known?.trustedUntilMs ?? null),
      };
      // The token is new on every verification: a cookie copied before it stops counting now.
      await store.hashSet(user.id, keys.devices, id, JSON.stringify(record));
      if (input.ip !== undefined)
        await store.hashSet(user.id, keys.risk, `ip:${clientGroup(input.ip)}`, String(now));
      if (risk.cred !== undefined) await store.hashDelete(user.id, keys.risk, "cred");
      if (trust && !(known && (known.trustedUntilMs ?? 0) > now)) {
        await ctx.emit({ type: "device.trusted", userId: user.id, deviceId: id });
        ctx.notify(user, "device.trusted", { ...(input.ip ? { ip: input.ip } : {}), device: record.name });
      }
      await prune(user.id, [...devices.filter((d) => d.id !== id), record], risk);
      const untilMs = Math.max(record.trustedUntilMs ?? 0, now + SEEN_DAYS * DAY_MS);
      return {
        value: `${id}.${token}`,
        maxAgeSeconds: Math.ceil((untilMs - now) / 1000),
        trusted: (record.trustedUntilMs ?? 0) > now,
      };
    },

    /** The user's trusted devices, most recently used first. */
    async list(uid: string): Promise<DeviceSummary[]> {
      const now = ctx.now();
      return parseDevices(await store.hashGetAll(uid, keys.devices))
        .filter((d) => (d.trustedUntilMs ?? 0) > now)
        .sort((a, b) => b.lastUsedAtMs - a.lastUsedAtMs)
        .map(summarize);
    },

    /**
     * Stops trusting one device, on every process at once.
     * @throws StepUpError NOT_FOUND for an id that is not a trusted device of the user
     */
    async revoke(uid: string, id: unknown): Promise<void> {
      if (
        typeof id !== "string" ||
        !/^[A-Za-z0-9_-]{16}$/.test(id) ||
        !(await store.hashDelete(uid, keys.devices, id))
      )
        throw new StepUpError("NOT_FOUND", "No such device.");
      await ctx.emit({ type: "device.revoked", userId: uid, deviceId: id });
    },

    /**
     * Forgets every device of the user (revokeUser, a credential change, an admin reset). `by`: the
     * administrator who asked (`metadata.by` of the event).
     */
    async revokeAll(uid: string, by?: string): Promise<void> {
      await store.delete(uid, [keys.devices]);
      await ctx.emit({ type: "device.revoked", userId: uid, ...(by === undefined ? {} : { by }) });
    },
  };
}

export type Devices = ReturnType<typeof createDevices>;
