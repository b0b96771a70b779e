#!/usr/bin/env bash
# pnpm test:compose — runs the real docker-compose.yml and drives it through its nginx.
#
#   1. base images, cached in $HERALD_COMPOSE_CACHE (no image registry is needed): a
#      debootstrapped Debian root; + this machine's Node 20; + Debian's nginx; + Debian's redis
#   2. every herald image from infra/docker/Dockerfile, from a snapshot of this checkout
#      (HERALD_COMPOSE_REF=<git rev> builds a commit instead of the working tree)
#   3. docker-compose.yml + docker-compose.test.yml (test-only: base images, ulimits, dev SMS
#      provider, port) on podman, with generated secrets in a private env file
#   4. waits until every container is healthy, runs packages/stack/test/compose, tears down
#
# Needs root, podman, docker-compose (v1, against podman's API socket) and debootstrap:
#   apt-get install podman runc docker-compose debootstrap
# HERALD_COMPOSE_KEEP=1 leaves the containers running after the suite (for a look around).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
started=$(date +%s)
say() { printf 'test:compose [%3ds] %s\n' "$(($(date +%s) - started))" "$*"; }

[ "$(id -u)" = 0 ] || { echo "test:compose: run as root (podman, rootful)" >&2; exit 1; }
for tool in podman runc docker-compose debootstrap git tar; do
  command -v "$tool" >/dev/null || { echo "test:compose: $tool is missing (apt-get install podman runc docker-compose debootstrap)" >&2; exit 1; }
done

CACHE=${HERALD_COMPOSE_CACHE:-/var/tmp/herald-compose-cache}
PROJECT=herald-compose-test
PORT=${HERALD_COMPOSE_PORT:-18080}
SMS_PORT=$((PORT + 1))
RUN_DIR=$(mktemp -d /tmp/herald-compose.XXXXXX)
chmod 700 "$RUN_DIR"
mkdir -p "$CACHE"

# podman: storage kept in the cache (images survive between runs); overlay, or vfs where the
# kernel refuses overlay mounts (HERALD_COMPOSE_STORAGE=vfs: slower, every layer a full copy).
DRIVER=${HERALD_COMPOSE_STORAGE:-overlay}
cat >"$CACHE/storage-$DRIVER.conf" <<EOF
[storage]
driver = "$DRIVER"
graphroot = "$CACHE/storage-$DRIVER"
runroot = "/run/herald-compose-$(printf %s "$CACHE" | sha256sum | cut -c1-8)-$DRIVER"
EOF
export CONTAINERS_STORAGE_CONF=$CACHE/storage-$DRIVER.conf
export CONTAINERS_CONF=$REPO/infra/docker/test-base/containers.conf
export BUILDAH_ISOLATION=chroot

# HERALD_COMPOSE_REDIS=sentinel adds docker-compose.sentinel.yml (a replica and three sentinels)
COMPOSE_FILES=(-f "$REPO/docker-compose.yml" -f "$REPO/docker-compose.test.yml")
case "${HERALD_COMPOSE_REDIS:-single}" in
  single) ;;
  sentinel) COMPOSE_FILES+=(-f "$REPO/docker-compose.sentinel.yml" -f "$REPO/docker-compose.test-sentinel.yml") ;;
  *) echo "test:compose: HERALD_COMPOSE_REDIS must be single or sentinel" >&2; exit 1 ;;
esac
compose() {
  docker-compose --project-name "$PROJECT" --project-directory "$REPO" --env-file "$RUN_DIR/env" \
    "${COMPOSE_FILES[@]}" "$@"
}
service_pid=""
health_pid=""
cleanup() {
  status=$?
  if [ -n "$health_pid" ]; then kill "$health_pid" 2>/dev/null || true; fi
  if [ "${HERALD_COMPOSE_KEEP:-0}" != 1 ] && [ -S "$RUN_DIR/podman.sock" ]; then
    say "tearing down"
    compose down -v --remove-orphans >"$RUN_DIR/down.log" 2>&1 || cat "$RUN_DIR/down.log" >&2
  fi
  if [ -n "$service_pid" ] && [ "${HERALD_COMPOSE_KEEP:-0}" != 1 ]; then kill "$service_pid" 2>/dev/null || true; fi
  [ "${HERALD_COMPOSE_KEEP:-0}" = 1 ] || rm -rf "$RUN_DIR"
  say "done (exit $status)"
  exit "$status"
}
trap cleanup EXIT

hash_of() { cat "$@" | sha256sum | cut -c1-12; }

# --- 1. base images -------------------------------------------------------------------------
BASE=$REPO/infra/docker/test-base
DEBIAN_IMAGE=herald-test/debian:bookworm
if ! podman image exists "$DEBIAN_IMAGE"; then
  if [ ! -s "$CACHE/bookworm-root.tar" ]; then
    say "debootstrap: a minimal Debian bookworm root"
    rm -rf "$CACHE/bookworm-root"
    debootstrap --variant=minbase bookworm "$CACHE/bookworm-root" http://deb.debian.org/debian >"$RUN_DIR/debootstrap.log" 2>&1 ||
      { cat "$RUN_DIR/debootstrap.log" >&2; exit 1; }
    rm -rf "$CACHE/bookworm-root"/var/cache/apt/archives/*.deb "$CACHE/bookworm-root"/var/lib/apt/lists/*
    tar -C "$CACHE/bookworm-root" -cf "$CACHE/bookworm-root.tar" .
    rm -rf "$CACHE/bookworm-root"
  fi
  say "importing $DEBIAN_IMAGE"
  podman import --quiet "$CACHE/bookworm-root.tar" "$DEBIAN_IMAGE" >/dev/null
fi

node_bin=$(command -v node)
node_mods=$(dirname "$(readlink -f "$(command -v npm)")")/../..
extra_ca=$(find /usr/local/share/ca-certificates -name '*.crt' 2>/dev/null | sort)
# shellcheck disable=SC2086
NODE_IMAGE=herald-test/node:$(hash_of "$BASE/node.Containerfile" "$node_bin" $extra_ca)
NGINX_IMAGE=herald-test/nginx:$(hash_of "$BASE/nginx.Containerfile" "$BASE/nginx-entrypoint.sh")
REDIS_IMAGE=herald-test/redis:$(hash_of "$BASE/redis.Containerfile")
build_base() { # image recipe [context]
  local image=$1 recipe=$2 context=${3:-$BASE}
  podman image exists "$image" && return
  say "building $image"
  podman build --quiet --isolation chroot --build-arg "BASE_IMAGE=$DEBIAN_IMAGE" -f "$recipe" -t "$image" "$context" \
    >"$RUN_DIR/build.log" 2>&1 || { cat "$RUN_DIR/build.log" >&2; exit 1; }
}
mkdir -p "$RUN_DIR/node-context/node_modules" "$RUN_DIR/node-context/extra-ca"
# shellcheck disable=SC2086
[ -z "$extra_ca" ] || cp $extra_ca "$RUN_DIR/node-context/extra-ca/"
cp "$node_bin" "$RUN_DIR/node-context/node"
cp -r "$node_mods/npm" "$node_mods/corepack" "$RUN_DIR/node-context/node_modules/"
build_base "$NODE_IMAGE" "$BASE/node.Containerfile" "$RUN_DIR/node-context"
build_base "$NGINX_IMAGE" "$BASE/nginx.Containerfile"
build_base "$REDIS_IMAGE" "$BASE/redis.Containerfile"
rm -rf "$RUN_DIR/node-context"

# --- 2. herald images from the real Dockerfile ------------------------------------------------
SRC=$RUN_DIR/src
mkdir -p "$SRC"
if [ -n "${HERALD_COMPOSE_REF:-}" ]; then
  say "source: commit $(git rev-parse --short "$HERALD_COMPOSE_REF")"
  git archive "$HERALD_COMPOSE_REF" | tar -x -C "$SRC"
else
  say "source: this checkout's working tree"
  git ls-files -z --cached --others --exclude-standard | xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' |
    tar --null -T - -cf - | tar -x -C "$SRC"
fi
build_app() { # image target [APP]
  say "building $1"
  local log=$RUN_DIR/build-${1//[\/:]/-}.log
  podman build --format docker --isolation chroot --layers -f "$SRC/infra/docker/Dockerfile" --target "$2" \
    --build-arg "NODE_IMAGE=$NODE_IMAGE" --build-arg "NGINX_IMAGE=$NGINX_IMAGE" ${3:+--build-arg "APP=$3"} \
    -t "$1" "$SRC" >"$log" 2>&1 || { tail -40 "$log" >&2; exit 1; }
}
build_app herald/auth:local runtime auth
build_app herald/gateway:local runtime gateway
build_app herald/notifier:local runtime notifier
build_app herald/nginx:local nginx
podman image prune -f >/dev/null 2>&1 || true

# --- 3. compose up ------------------------------------------------------------------------------
podman system service --time 0 "unix://$RUN_DIR/podman.sock" >"$RUN_DIR/podman-service.log" 2>&1 &
service_pid=$!
for _ in $(seq 50); do [ -S "$RUN_DIR/podman.sock" ] && break; sleep 0.1; done
export DOCKER_HOST=unix://$RUN_DIR/podman.sock

# Fresh secrets for this run, in a file only root can read (never on a command line).
secret() { head -c 48 /dev/urandom | base64 | tr -d '=+/' ; }
umask 077
{
  for name in OTP_SECRET TICKET_SECRET SERVICE_JWT_SECRET; do echo "$name=$(secret)"; done
  for name in REDIS_PASSWORD REDIS_AUTH_PASSWORD REDIS_GATEWAY_PASSWORD REDIS_NOTIFIER_PASSWORD REDIS_WORKER_PASSWORD \
    REDIS_REPLICATION_PASSWORD REDIS_SENTINEL_PASSWORD REDIS_SENTINEL_CLIENT_PASSWORD; do
    echo "$name=$(secret)"
  done
  echo "SERVICE_JWT_AUDIENCE=herald"
  echo "ALLOWED_ORIGINS=http://127.0.0.1:$PORT"
  echo "HERALD_PORT=$PORT"
  echo "HERALD_TEST_SMS_PORT=$SMS_PORT"
  # the hard limits of podman's service process (it lowers its own): a container may not exceed them
  nofile=$(awk '/^Max open files/ {print $5}' "/proc/$service_pid/limits")
  [ "$nofile" = unlimited ] || [ "$nofile" -gt 65536 ] && nofile=65536
  nproc=$(awk '/^Max processes/ {print $4}' "/proc/$service_pid/limits")
  [ "$nproc" = unlimited ] && nproc=1048576
  echo "HERALD_TEST_NOFILE=$nofile"
  echo "HERALD_TEST_NPROC=$nproc"
  echo "HERALD_TEST_NODE_IMAGE=$NODE_IMAGE"
  echo "HERALD_TEST_NGINX_IMAGE=$NGINX_IMAGE"
  echo "HERALD_TEST_REDIS_IMAGE=$REDIS_IMAGE"
} >"$RUN_DIR/env"
umask 022
compose down -v --remove-orphans >/dev/null 2>&1 || true

# podman runs health checks from systemd timers; without systemd, this loop is the timer.
(
  while sleep 2; do
    for id in $(podman ps -q --filter "label=com.docker.compose.project=$PROJECT" 2>/dev/null); do
      podman healthcheck run "$id" >/dev/null 2>&1 || true
    done
  done
) &
health_pid=$!

say "compose up"
compose up -d --no-build >"$RUN_DIR/up.log" 2>&1 || { cat "$RUN_DIR/up.log" >&2; exit 1; }
deadline=$(($(date +%s) + 180))
while :; do
  states=$(podman ps -a --filter "label=com.docker.compose.project=$PROJECT" --format '{{.Names}} {{.Status}}')
  # every container up, and each one with a health check healthy
  unhealthy=$(grep -v ' Up ' <<<"$states" || true)$(grep -E '\((starting|unhealthy)\)' <<<"$states" || true)
  [ -z "$unhealthy" ] && break
  if [ "$(date +%s)" -gt "$deadline" ]; then
    echo "$states" >&2
    compose logs --no-color --tail 30 >&2 || true
    echo "test:compose: containers not healthy within 180 s" >&2
    exit 1
  fi
  sleep 2
done
say "$(wc -l <<<"$states") containers healthy"

# --- 4. the black-box suite -----------------------------------------------------------------------
set -a
# shellcheck disable=SC1091
. "$RUN_DIR/env"
set +a
export HERALD_COMPOSE_URL=http://127.0.0.1:$PORT HERALD_COMPOSE_SMS_URL=http://127.0.0.1:$SMS_PORT HERALD_COMPOSE_PROJECT=$PROJECT
suite_status=0
pnpm --filter @herald/stack exec vitest run --config vitest.compose.config.ts || suite_status=$?
if [ "$suite_status" != 0 ]; then compose logs --no-color --tail 40 >&2 || true; fi
say "suite finished (exit $suite_status)"
exit "$suite_status"
