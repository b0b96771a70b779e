/** The client factory moved to @herald/redis (one server, Sentinel or Cluster); kept here so imports keep working. */
export { createRedis, forEachPrimary, isCluster, type RedisClient, type RedisRole, waitReady } from '@herald/redis'
