import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Options for {@link startRedisCluster}. */
export interface RedisClusterOptions {
  /** Masters, each serving an equal share of the 16384 slots (at least 3, Redis Cluster's minimum). @default 3 */
  readonly masters?: number;
  /** Replicas of each master (0 or more); with one, killing a master promotes its replica. @default 0 */
  readonly replicasPerMaster?: number;
  /**
   * `cluster-node-timeout`: how long a node may be unreachable before the others count it as
   * failing (and a replica takes over). @default 1000
   */
  readonly nodeTimeoutMs?: number;
}

/** One node as the cluster sees it (a line of `CLUSTER NODES`). */
export interface RedisClusterNodeState {
  readonly id: string;
  readonly port: number;
  readonly role: "master" | "replica";
  /** The master's node id for a replica, `null` for a master. */
  readonly masterId: string | null;
  /** Flagged `fail` or `fail?` (unreachable) by the node that answered. */
  readonly failing: boolean;
  /** Slot ranges a master serves, inclusive. */
  readonly slots: readonly (readonly [number, number])[];
}

/** A Redis Cluster of private `redis-server` processes that a test owns. */
export interface RedisCluster {
  /** Every node's port, in start order (the cluster decides which are masters: see {@link topology}). */
  readonly ports: readonly number[];
  /** Startup nodes, for `new Cluster(cluster.nodes, options)`. */
  readonly nodes: readonly { readonly host: string; readonly port: number }[];
  /** `127.0.0.1:P1,127.0.0.1:P2,...`: the demos' `REDIS_CLUSTER_NODES`. */
  readonly nodesEnv: string;
  /** Runs `redis-cli -p <port> <args...>` and answers its output (trimmed). */
  cli(port: number, ...args: string[]): Promise<string>;
  /** The slot of a key, as the cluster computes it (`CLUSTER KEYSLOT`). */
  keySlot(key: string): Promise<number>;
  /** The nodes as a live node sees them (`CLUSTER NODES`), failed ones included. */
  topology(): Promise<RedisClusterNodeState[]>;
  /** The port of the master serving `slot`, as a live node sees it (not a failing one). */
  masterOf(slot: number): Promise<number>;
  /**
   * Waits until every replica has received what its master had written when this was called
   * (replication is asynchronous: a write a replica has not received is lost if its master dies).
   */
  syncReplicas(timeoutMs?: number): Promise<void>;
  /** Waits until every live node answers `cluster_state:ok` and sees a live master for every slot. */
  waitForOk(timeoutMs?: number): Promise<void>;
  /** Whether the node on `port` is running (not killed or stopped). */
  alive(port: number): boolean;
  /** Kills one node with SIGKILL (a crash: no goodbye on the cluster bus) and waits for it to exit. */
  kill(port: number): Promise<void>;
  /** Stops every node and removes the temporary directory (nodes-*.conf). */
  stop(): Promise<void>;
}

const HOST = "127.0.0.1";

/** `count` distinct free loopback ports, all held open until every one is found. */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    const ports: number[] = [];
    while (ports.length < count) {
      const server = createServer();
      servers.push(server);
      server.listen(0, HOST);
      await once(server, "listening");
      const address = server.address();
      if (address === null || typeof address === "string") throw new Error("no port");
      ports.push(address.port);
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function poll(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const reason = last instanceof Error ? ` (last error: ${last.message})` : "";
      throw new Error(`redis cluster: ${what} not reached within ${timeoutMs} ms${reason}`);
    }
    await sleep(50);
  }
}

function parseNodes(text: string): RedisClusterNodeState[] {
  const nodes: RedisClusterNodeState[] = [];
  for (const line of text.split("\n")) {
    const fields = line.trim().split(" ");
    if (fields.length < 8) continue;
    const [id = "", address = "", flagText = "", master = "-"] = fields;
    const flags = flagText.split(",");
    // ip:port@busport (Redis 7 may append ,hostname)
    const port = Number(/:(\d+)@/.exec(address)?.[1]);
    const slots: [number, number][] = [];
    for (const range of fields.slice(8)) {
      if (range.startsWith("[")) continue; // a slot being migrated or imported
      const [from, to = from] = range.split("-").map(Number);
      if (from !== undefined && to !== undefined) slots.push([from, to]);
    }
    nodes.push({
      id,
      port,
      role: flags.includes("master") ? "master" : "replica",
      masterId: master === "-" ? null : master,
      failing: flags.includes("fail") || flags.includes("fail?"),
      slots,
    });
  }
  return nodes;
}

/**
 * Starts a Redis Cluster on loopback: `masters * (1 + replicasPerMaster)` `redis-server` processes
 * (`--cluster-enabled yes`, persistence off, each with its own free port and cluster-bus port), joined
 * by `redis-cli --cluster create`, and waits until every node says `cluster_state:ok` and every
 * replica is in sync. Takes about 1.5 s (redis-cli waits a second for the nodes to join).
 * Binaries: `$REDIS_SERVER` / `$REDIS_CLI`, or `redis-server` / `redis-cli` on PATH (Debian's
 * `redis-server` package, which pulls in `redis-tools`).
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<RedisCluster> {
  const masters = options.masters ?? 3;
  const replicasPerMaster = options.replicasPerMaster ?? 0;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 1000;
  if (!Number.isInteger(masters) || masters < 3) throw new RangeError("startRedisCluster: masters >= 3");
  if (!Number.isInteger(replicasPerMaster) || replicasPerMaster < 0)
    throw new RangeError("startRedisCluster: replicasPerMaster must be a whole number >= 0");
  const serverBinary = process.env.REDIS_SERVER ?? "redis-server";
  const cliBinary = process.env.REDIS_CLI ?? "redis-cli";

  const count = masters * (1 + replicasPerMaster);
  const allPorts = await freePorts(count * 2);
  const ports = allPorts.slice(0, count);
  const busPorts = allPorts.slice(count);
  const dir = await mkdtemp(join(tmpdir(), "stepup-cluster-"));
  const children = new Map<number, ChildProcess>();
  let stopped = false;

  const killAll = (): void => {
    for (const child of children.values()) if (child.exitCode === null) child.kill("SIGKILL");
  };
  process.once("exit", killAll);

  const cli = (port: number, ...args: string[]): Promise<string> =>
    new Promise((resolve, reject) => {
      execFile(cliBinary, ["-h", HOST, "-p", String(port), ...args], { timeout: 5_000 }, (error, stdout) => {
        if (error) reject(new Error(`${cliBinary} -p ${port} ${args.join(" ")}: ${error.message}`));
        // redis-cli prints a reply error on stdout with exit code 0 when not on a TTY.
        else if (/^(ERR|CLUSTERDOWN|MOVED|NOSCRIPT|LOADING)\b/.test(stdout))
          reject(new Error(`redis-cli -p ${port} ${args.join(" ")}: ${stdout.trim()}`));
        else resolve(stdout.trim());
      });
    });

  const alive = (port: number): boolean => {
    const child = children.get(port);
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  };
  const livePorts = (): number[] => ports.filter(alive);

  const topology = async (): Promise<RedisClusterNodeState[]> => {
    let last: unknown;
    for (const port of livePorts()) {
      try {
        return parseNodes(await cli(port, "cluster", "nodes"));
      } catch (error) {
        last = error;
      }
    }
    throw last instanceof Error ? last : new Error("redis cluster: no live node");
  };

  const masterOf = async (slot: number): Promise<number> => {
    const nodes = await topology();
    const master = nodes.find(
      (n) => n.role === "master" && !n.failing && n.slots.some(([from, to]) => slot >= from && slot <= to),
    );
    if (!master) throw new Error(`redis cluster: no live master serves slot ${slot}`);
    return master.port;
  };

  const waitForOk = (timeoutMs = 15_000): Promise<void> =>
    poll("cluster_state:ok on every live node", timeoutMs, async () => {
      for (const port of livePorts()) {
        const info = await cli(port, "cluster", "info");
        if (!info.includes("cluster_state:ok")) return false;
        // "ok" while a dead master still holds slots would send clients to it: every slot must be
        // served by a live master (after a kill, once its replica has taken over).
        const nodes = parseNodes(await cli(port, "cluster", "nodes"));
        // A master this helper killed may not be flagged yet: it must not count as serving.
        const served = nodes
          .filter((n) => n.role === "master" && !n.failing && alive(n.port))
          .reduce((sum, n) => sum + n.slots.reduce((s, [from, to]) => s + to - from + 1, 0), 0);
        if (served !== 16384) return false;
      }
      return true;
    });

  const replicationField = (info: string, name: string): string | undefined =>
    new RegExp(`^${name}:(.*)$`, "m").exec(info)?.[1]?.trim();

  const syncReplicas = async (timeoutMs = 10_000): Promise<void> => {
    const nodes = await topology();
    for (const replica of nodes.filter((n) => n.role === "replica" && alive(n.port))) {
      const master = nodes.find((n) => n.id === replica.masterId);
      if (!master || !alive(master.port)) continue;
      const target = Number(
        replicationField(await cli(master.port, "info", "replication"), "master_repl_offset"),
      );
      await poll(`replica ${replica.port} in sync with ${master.port}`, timeoutMs, async () => {
        const info = await cli(replica.port, "info", "replication");
        return (
          replicationField(info, "master_link_status") === "up" &&
          Number(replicationField(info, "slave_repl_offset")) >= target
        );
      });
    }
  };

  const kill = async (port: number): Promise<void> => {
    const child = children.get(port);
    if (!child || !alive(port)) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  };

  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await Promise.all(
      [...children.keys()].map(async (port) => {
        const child = children.get(port);
        if (!child || !alive(port)) return;
        const exited = once(child, "exit");
        child.kill("SIGKILL");
        await exited;
      }),
    );
    process.removeListener("exit", killAll);
    await rm(dir, { recursive: true, force: true });
  };

  const startNode = async (port: number, busPort: number): Promise<void> => {
    const child = spawn(
      serverBinary,
      [
        "--port",
        String(port),
        "--cluster-port",
        String(busPort),
        "--bind",
        HOST,
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        join(dir, `nodes-${port}.conf`),
        "--cluster-node-timeout",
        String(nodeTimeoutMs),
        "--dir",
        dir,
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        // A replica's first sync would otherwise wait 5 s for other replicas to join it.
        "--repl-diskless-sync-delay",
        "0",
        "--loglevel",
        "warning",
      ],
      { stdio: ["ignore", "ignore", "inherit"] },
    );
    child.once("error", (error) => {
      process.stderr.write(
        `could not start ${serverBinary}: ${error.message} (apt-get install redis-server)\n`,
      );
    });
    children.set(port, child);
    await poll(`redis-server on port ${port}`, 10_000, async () => {
      if (child.exitCode !== null) throw new Error(`redis-server exited with code ${child.exitCode}`);
      return (await cli(port, "ping")) === "PONG";
    });
  };

  try {
    await Promise.all(ports.map((port, i) => startNode(port, busPorts[i] as number)));
    await new Promise<void>((resolve, reject) => {
      execFile(
        cliBinary,
        [
          "--cluster",
          "create",
          ...ports.map((port) => `${HOST}:${port}`),
          "--cluster-replicas",
          String(replicasPerMaster),
          "--cluster-yes",
        ],
        { timeout: 30_000 },
        (error, stdout, stderr) => {
          if (error || !stdout.includes("All 16384 slots covered"))
            reject(
              new Error(`redis-cli --cluster create failed: ${error?.message ?? ""}\n${stdout}${stderr}`),
            );
          else resolve();
        },
      );
    });
    await waitForOk();
    if (replicasPerMaster > 0) {
      // A replica counts for failover once it has synced and every node knows it as a replica.
      await poll("replicas linked to their masters", 15_000, async () => {
        for (const port of ports) {
          const nodes = parseNodes(await cli(port, "cluster", "nodes"));
          if (nodes.filter((n) => n.role === "replica").length !== masters * replicasPerMaster) return false;
        }
        return true;
      });
      await syncReplicas();
    }
  } catch (error) {
    await stop();
    throw error;
  }

  const nodes = ports.map((port) => ({ host: HOST, port }));
  return {
    ports,
    nodes,
    nodesEnv: nodes.map((n) => `${n.host}:${n.port}`).join(","),
    cli,
    keySlot: async (key) => {
      const [port] = livePorts();
      if (port === undefined) throw new Error("redis cluster: no live node");
      return Number(await cli(port, "cluster", "keyslot", key));
    },
    topology,
    masterOf,
    syncReplicas,
    waitForOk,
    alive,
    kill,
    stop,
  };
}
