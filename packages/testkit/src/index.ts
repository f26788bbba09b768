export {
  type RedisCluster,
  type RedisClusterNodeState,
  type RedisClusterOptions,
  startRedisCluster,
} from "./redis-cluster.js";
export { type RedisServer, startRedisServer } from "./redis-server.js";
export {
  type ReceivedWebhook,
  type ReceiverMode,
  startWebhookReceiver,
  type WebhookReceiver,
} from "./webhook-receiver.js";
