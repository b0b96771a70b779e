#!/bin/sh
# One Redis Sentinel of docker-compose.sentinel.yml. Writes its config to tmpfs (Sentinel
# rewrites its own config as it learns the topology) and runs redis-sentinel on it. Passwords
# come from the environment and never appear in a process's arguments; a missing one stops
# the container (fail closed).
#   REDIS_SENTINEL_PASSWORD         the `sentinel` user on the data nodes
#   REDIS_SENTINEL_CLIENT_PASSWORD  what clients (and the other sentinels) give this sentinel
set -eu
umask 077
for v in REDIS_SENTINEL_PASSWORD REDIS_SENTINEL_CLIENT_PASSWORD; do
  eval "value=\${$v:-}"
  if [ -z "$value" ]; then echo "sentinel: $v is not set (see .env.example)" >&2; exit 1; fi
done
cat >/tmp/sentinel.conf <<CONF
port 26379
dir /tmp
sentinel resolve-hostnames yes
sentinel announce-hostnames yes
requirepass $REDIS_SENTINEL_CLIENT_PASSWORD
sentinel sentinel-pass $REDIS_SENTINEL_CLIENT_PASSWORD
sentinel monitor herald ${REDIS_PRIMARY_HOST:-redis} 6379 2
sentinel auth-user herald sentinel
sentinel auth-pass herald $REDIS_SENTINEL_PASSWORD
sentinel down-after-milliseconds herald ${SENTINEL_DOWN_AFTER_MS:-5000}
sentinel failover-timeout herald ${SENTINEL_FAILOVER_TIMEOUT_MS:-30000}
sentinel parallel-syncs herald 1
CONF
unset REDIS_SENTINEL_PASSWORD REDIS_SENTINEL_CLIENT_PASSWORD value
exec redis-sentinel /tmp/sentinel.conf
