/** Where the demo's Redis is: one server (`REDIS_URL`) or a Redis Cluster (`REDIS_CLUSTER_NODES`). */
export type DemoRedisConfig =
  | { readonly kind: "server"; readonly url: string }
  | { readonly kind: "cluster"; readonly nodes: readonly { readonly host: string; readonly port: number }[] };

const NODE = /^(?:\[([0-9A-Fa-f:.]+)\]|([A-Za-z0-9.-]+)):(\d{1,5})$/;

/**
 * `REDIS_URL` or `REDIS_CLUSTER_NODES` (`host:port,host:port,...`; an IPv6 host in brackets), or
 * `undefined` for neither (the memory store). An empty variable counts as unset.
 * @throws Error naming the variable when a value is malformed, or both when both are set.
 */
export function redisConfigFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): DemoRedisConfig | undefined {
  const url = env.REDIS_URL?.trim();
  const list = env.REDIS_CLUSTER_NODES?.trim();
  if (url && list) {
    throw new Error(
      "demo: REDIS_URL and REDIS_CLUSTER_NODES are both set; set REDIS_URL for one Redis server or REDIS_CLUSTER_NODES for a Redis Cluster, not both",
    );
  }
  if (url) return { kind: "server", url };
  if (!list) return undefined;
  const nodes = list.split(",").map((entry) => {
    const match = NODE.exec(entry.trim());
    const port = Number(match?.[3]);
    if (!match || port < 1 || port > 65_535) {
      throw new Error(
        `demo: REDIS_CLUSTER_NODES must be host:port pairs separated by commas (127.0.0.1:7000,127.0.0.1:7001); "${entry.trim()}" is not one`,
      );
    }
    return { host: (match[1] ?? match[2]) as string, port };
  });
  return { kind: "cluster", nodes };
}
