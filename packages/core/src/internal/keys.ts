/**
 * Every store key stepup writes: the one table. A key lives in a scope (a user id, a client
 * address group, or a factor plugin's shared namespace); a store keeps a scope's keys together,
 * so each multi-key call stays within one Redis Cluster slot.
 *
 * User scope (`scope = user id`):
 * | key | kind | lifetime |
 * |---|---|---|
 * | `session:<sid>` | step-up session record | `sessionTtl` |
 * | `ended:<sid>` | a signed-out step-up session id: its challenges end, a grant racing the logout is undone | `challengeTtl` |
 * | `rotated:<sid>` | the id a verification rotated this one to (a logout with the old cookie ends both) | `challengeTtl` |
 * | `revoked` | revokeUser mark (ms) | `sessionTtl` |
 * | `challenge:<id>` | open challenge, taken on success | `challengeTtl` |
 * | `challenges` | list of open challenge ids, capped | `challengeTtl` |
 * | `enroll:<factorId>` | pending enrollment | 10 min |
 * | `enrollments` | list of pending enrollment ids, capped | 10 min |
 * | `first-factor` | claim of the first factor's confirmation | 30 x `storeTimeoutMs` (1 min by default) |
 * | `reset` | mark of the last admin reset (random): an enrollment started under another mark is not confirmed | 1 hour |
 * | `factors` | factor records (hash) | durable |
 * | `attempts:challenge:<id>`, `attempts:factor:<factorId>`, `attempts:enroll:<factorId>` | guess counters | their window |
 * | `failures` | consecutive failed verifications | 365 days |
 * | `throttle` | growing delay: no attempt before this time (ms) | the delay |
 * | `locked` | hard lock after the consecutive-failure cap (ms) | durable |
 * | `locked:factor:<factorId>` | end of a factor's window lock (ms) | the window |
 * | `txn:<familyId>:<digest>` | unused transaction grant | `sessionTtl` |
 * | `f:<type>:<key>` | a factor plugin's own keys (`FactorContext.store`) | the plugin's |
 * | `devices` | devices seen or trusted: `<deviceId>` -> record with the token's keyed hash (hash, capped) | durable, pruned |
 * | `risk` | risk memory (hash): `ip:<group>` -> last verification (ms), `cred` -> credential change (ms) | durable, pruned |
 * | `grace-start` | first guarded request without a factor (ms): the grace period counts from it | durable |
 * | `signin:<id>` | a pending sign-in second factor, taken by its completion | `challengeTtl` |
 * | `family-revoked:<familyId>` | a logged-out step-up session family: its tokens stop working | `sessionTtl` |
 * | `token-used:<jti>` | a transaction token already used | until the token expires |
 * | `audit` | audit log entries, hash-chained, newest last (capped list, 200) | 400 days |
 * | `reviews` | policy REVIEW decisions, newest last (capped list) | 90 days |
 *
 * Client scope (`ipScope(address)`): `attempts`, the per-address guess counter.
 * Plugin scope (`pluginScope(type)`): a plugin's cross-user keys (`FactorContext.shared`), e.g. the
 * WebAuthn credential-id index.
 */
export const keys = {
  session: (sid: string) => `session:${sid}`,
  sessionEnded: (sid: string) => `ended:${sid}`,
  rotatedTo: (sid: string) => `rotated:${sid}`,
  revoked: "revoked",
  challenge: (id: string) => `challenge:${id}`,
  challenges: "challenges",
  enrollment: (factorId: string) => `enroll:${factorId}`,
  enrollments: "enrollments",
  firstFactor: "first-factor",
  reset: "reset",
  factors: "factors",
  attemptsChallenge: (id: string) => `attempts:challenge:${id}`,
  attemptsFactor: (factorId: string) => `attempts:factor:${factorId}`,
  attemptsEnroll: (factorId: string) => `attempts:enroll:${factorId}`,
  failures: "failures",
  throttle: "throttle",
  locked: "locked",
  lockedFactor: (factorId: string) => `locked:factor:${factorId}`,
  txnGrant: (familyId: string, digest: string) => `txn:${familyId}:${digest}`,
  plugin: (type: string, key: string) => `f:${type}:${key}`,
  attemptsIp: "attempts",
  devices: "devices",
  risk: "risk",
  graceStart: "grace-start",
  signIn: (id: string) => `signin:${id}`,
  reviews: "reviews",
  audit: "audit",
  familyRevoked: (familyId: string) => `family-revoked:${familyId}`,
  tokenUsed: (jti: string) => `token-used:${jti}`,
} as const;

/** Scope of per-client counters (kept apart from user scopes). */
export const ipScope = (group: string) => `ip:${group}`;

/** Scope of a factor plugin's cross-user keys. */
export const pluginScope = (type: string) => `factor:${type}`;
