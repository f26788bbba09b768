export { type RedisServer, startRedisServer } from "./redis-server.js";
