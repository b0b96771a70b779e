#!/bin/sh
# Writes herald's Redis users (one per service, each with only its own key patterns and
# commands) into an ACL file on tmpfs, then runs redis-server with redis.conf.
# Every password comes from the environment and is stored only as its SHA-256; it never
# appears in a process's arguments. A missing password stops the container (fail closed).
#
# Key patterns follow packages/keys (KEY_PREFIX herald:):
#   herald:{ph:<phone>}:…   per-phone codes, budgets, phone → user        auth
#   herald:rl:…             HTTP rate limits                               auth
#   herald:{sms}:…          the daily SMS spend ceiling                    auth
#   herald:{p<n>}:…         a partition: users, sessions, presence,
#                           inboxes, receipts, gateway streams, cursor     auth, gateway, notifier, worker
#   herald:{gw}:…           gateway replicas and reaping                   gateway (auth, notifier, worker: read only)
#   herald:ticket:used:…    burned WebSocket tickets                       gateway
#   herald:event:…          event idempotency records                      notifier, worker
#   herald:service-tokens:revoked  revoked service tokens (jti)            notifier
#   herald:{bull}:…         the BullMQ queue                               auth (login events), notifier, worker
#   herald:{wh}:…           webhook endpoints and their delivery logs      notifier, worker
set -eu
umask 077

hash() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
password() { # name of the variable
  eval "value=\${$1:-}"
  if [ -z "$value" ]; then echo "redis: $1 is not set (see .env.example)" >&2; exit 1; fi
  hash "$value"
}

# Every service: data commands, scripts, transactions, blocking reads; nothing that reads or
# changes the server (CONFIG, KEYS, FLUSH*, DEBUG, MONITOR, CLIENT KILL, ACL …) but INFO,
# which ioredis's ready check and BullMQ use.
COMMANDS='-@all +@read +@write +@keyspace +@string +@hash +@list +@set +@sortedset +@stream +@bitmap +@hyperloglog +@scripting +@transaction +@connection +@fast +@slow +@blocking -@dangerous -@admin -@pubsub -script|flush -function +info'

# `default` keeps every permission but gets a random password nobody ever knows: Redis
# replays the AOF's MULTI/EXEC blocks as the default user, and a restricted one made it drop
# every transaction on restart (found by pnpm test:compose: a Redis killed -9 came back with
# no sessions). `health` may only PING (the container's health check).
cat >/tmp/herald-users.acl <<ACL
user default on #$(head -c 48 /dev/urandom | sha256sum | cut -d' ' -f1) ~* &* +@all
user health on nopass resetkeys resetchannels -@all +ping
user auth on #$(password REDIS_AUTH_PASSWORD) resetkeys resetchannels ~herald:{ph:* ~herald:rl:* ~herald:{sms}:* ~herald:{p[0-9]* ~herald:{bull}:* %R~herald:{gw}:* $COMMANDS
user gateway on #$(password REDIS_GATEWAY_PASSWORD) resetkeys resetchannels ~herald:{p[0-9]* ~herald:{gw}:* ~herald:ticket:used:* $COMMANDS
user notifier on #$(password REDIS_NOTIFIER_PASSWORD) resetkeys resetchannels ~herald:{p[0-9]* ~herald:event:* ~herald:{bull}:* ~herald:service-tokens:revoked ~herald:{wh}:* %R~herald:{gw}:* $COMMANDS
user worker on #$(password REDIS_WORKER_PASSWORD) resetkeys resetchannels ~herald:{p[0-9]* ~herald:event:* ~herald:{bull}:* ~herald:{wh}:* %R~herald:{gw}:* $COMMANDS
ACL

# The Sentinel override (docker-compose.sentinel.yml): a `replication` user that replicas use
# to follow the primary — every node, since a failover turns the old primary into a replica —
# and a `sentinel` user with only what Sentinel needs. REDIS_REPLICA_OF makes this node a
# replica at first start; afterwards Sentinel decides who is primary.
cp /usr/local/etc/redis/redis.conf /tmp/herald-redis.conf
if [ -n "${REDIS_REPLICATION_PASSWORD:-}" ]; then
  echo "user replication on #$(password REDIS_REPLICATION_PASSWORD) resetkeys resetchannels -@all +psync +replconf +ping" >>/tmp/herald-users.acl
  printf 'masteruser replication\nmasterauth %s\n' "$REDIS_REPLICATION_PASSWORD" >>/tmp/herald-redis.conf
fi
if [ -n "${REDIS_SENTINEL_PASSWORD:-}" ]; then
  echo "user sentinel on #$(password REDIS_SENTINEL_PASSWORD) resetkeys allchannels -@all +multi +slaveof +ping +exec +subscribe +config|rewrite +role +publish +info +client|setname +client|kill +script|kill" >>/tmp/herald-users.acl
fi
if [ -n "${REDIS_REPLICA_OF:-}" ]; then echo "replicaof $REDIS_REPLICA_OF 6379" >>/tmp/herald-redis.conf; fi
# the name this node is known by on the network (Sentinel hands it to clients after a failover)
if [ -n "${REDIS_ANNOUNCE_HOST:-}" ]; then echo "replica-announce-ip $REDIS_ANNOUNCE_HOST" >>/tmp/herald-redis.conf; fi
unset REDIS_AUTH_PASSWORD REDIS_GATEWAY_PASSWORD REDIS_NOTIFIER_PASSWORD REDIS_WORKER_PASSWORD \
  REDIS_REPLICATION_PASSWORD REDIS_SENTINEL_PASSWORD value
exec redis-server /tmp/herald-redis.conf
