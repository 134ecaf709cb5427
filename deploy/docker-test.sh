#!/usr/bin/env bash
# The container flow end to end, on this machine:
#
#   bash deploy/docker-test.sh          (as root; ~3-4 min with a warm Docker cache)
#
#  1. installs docker.io, docker-compose and debootstrap when missing (apt);
#  2. starts dockerd (overlay2, vfs when overlay2 fails) when no daemon answers,
#     with its own log and pidfile;
#  3. builds debian:bookworm locally when no registry provided it
#     (deploy/docker/base-image.sh), then the memserver and Prometheus images,
#     and makes fresh credentials (deploy/make-credentials.sh);
#  4. `docker-compose up --exit-code-from memload`: memload's 5 s load against
#     the containerised server must succeed, and memserverd, stopped by
#     SIGTERM, must exit 0 (it checkpointed);
#  5. starts memserverd and Prometheus again on the same volume, waits for
#     the HEALTHCHECK (over TLS) to say healthy, checks that a call without a
#     token is UNAUTHENTICATED, and makes a memctl round trip from the host
#     through the published port over TLS with tenant app's token: write,
#     `docker-compose restart` (graceful), read back the same bytes;
#  6. asks Prometheus' HTTP API for a memserver metric it scraped (HTTPS);
#  7. tears down what it started (its compose project with its volume; the
#     daemon only if it started it), also on failure or Ctrl-C.
#
# Environment: DOCKER_TEST_REUSE_IMAGES=1 tests memserver:latest and
# memserver-prometheus:latest as they are when both exist (no rebuild: for
# iterating on the deployment files, never in CI); MEMSERVER_BUILD_DIR (default ./build) is where memctl is
# looked for on the host (without it, the image's memctl runs with the
# host's network); DOCKER_TEST_LOG_DIR keeps the logs (default: a temp dir,
# printed). Exit 0 when every step passed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
started=$(date +%s)
logs="${DOCKER_TEST_LOG_DIR:-$(mktemp -d /tmp/memserver-docker-test.XXXXXX)}"
mkdir -p "$logs"
project="memserver-test-$$"
compose_file="$root/deploy/docker-compose.yml"
started_dockerd=""

say() { echo "docker-test: [$(($(date +%s) - started))s] $*"; }
fail() {
  echo "docker-test: FAIL: $*" >&2
  exit 1
}
compose() { docker-compose -p "$project" -f "$compose_file" "$@"; }

# ---- 1. tools
need=()
command -v dockerd >/dev/null || need+=(docker.io)
command -v docker >/dev/null || need+=(docker.io)
command -v docker-compose >/dev/null || need+=(docker-compose)
command -v debootstrap >/dev/null || need+=(debootstrap)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || fail "missing ${need[*]}; run as root (or apt-get install them)"
  say "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${need[@]}" | sort -u) \
    >"$logs/apt.log" 2>&1 || { tail -n 20 "$logs/apt.log" >&2; fail "apt-get install"; }
fi

cleanup() {
  local status=$?
  set +e
  if [ -n "${compose_up:-}" ]; then
    compose logs --no-color >"$logs/compose.log" 2>&1
    compose down -v --remove-orphans >"$logs/down.log" 2>&1
  fi
  if [ -n "$started_dockerd" ]; then
    local pid
    pid=$(cat "$logs/dockerd.pid" 2>/dev/null)
    if [ -n "$pid" ]; then
      kill "$pid"
      for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  fi
  if [ $status -eq 0 ]; then
    say "PASS (logs in $logs)"
  else
    echo "docker-test: failed after $(($(date +%s) - started))s; logs in $logs" >&2
  fi
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- 2. daemon
# Waits up to $1 seconds for `docker info` to answer.
daemon_answers() {
  local deadline=$(($(date +%s) + $1))
  until docker info >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.5
  done
}
if ! docker info >/dev/null 2>&1; then
  [ "$(id -u)" -eq 0 ] || fail "no Docker daemon answers and starting one needs root"
  for driver in overlay2 vfs; do
    say "starting dockerd (storage driver $driver), log $logs/dockerd.log"
    dockerd --storage-driver "$driver" --pidfile "$logs/dockerd.pid" \
      >>"$logs/dockerd.log" 2>&1 &
    started_dockerd=$!
    if daemon_answers 60; then break; fi
    kill "$started_dockerd" 2>/dev/null || true
    wait "$started_dockerd" 2>/dev/null || true
    started_dockerd=""
  done
  [ -n "$started_dockerd" ] || { tail -n 20 "$logs/dockerd.log" >&2; fail "dockerd did not start"; }
fi

# ---- 3. images
"$root/deploy/docker/base-image.sh" debian:bookworm || fail "no debian:bookworm base image"
build_started=$(date +%s)
if [ -n "${DOCKER_TEST_REUSE_IMAGES:-}" ] && docker image inspect memserver:latest \
     memserver-prometheus:latest >/dev/null 2>&1; then
  say "DOCKER_TEST_REUSE_IMAGES: testing the existing images, not rebuilding them"
  : >"$logs/build.log"
else
  say "building the images (compiles memserver in Docker with -j2 unless cached)"
  compose build >"$logs/build.log" 2>&1 || { tail -n 40 "$logs/build.log" >&2; fail "image build"; }
  say "images built in $(($(date +%s) - build_started))s" \
    "($(grep -m1 -o '^runtime packages: .*' "$logs/build.log" || echo 'all layers cached'))"
fi
size=$(docker image inspect --format '{{.Size}}' memserver:latest)
say "memserver:latest is $((size / 1000000)) MB"

# Free loopback ports for what compose publishes (several stacks may share a host).
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
export MEMSERVER_HOST_PORT=$(free_port) MEMSERVER_METRICS_HOST_PORT=$(free_port) \
  PROMETHEUS_HOST_PORT=$(free_port)

# Credentials for this run (CA, certificates, tokens, tenants file), made
# fresh and given to the image's memserver user (uid 10001).
export MEMSERVER_CREDENTIALS="$logs/credentials"
rm -rf "$MEMSERVER_CREDENTIALS"
"$root/deploy/make-credentials.sh" "$MEMSERVER_CREDENTIALS" --uid 10001 >"$logs/credentials.log" 2>&1 ||
  { cat "$logs/credentials.log" >&2; fail "deploy/make-credentials.sh"; }

# ---- 4. the compose flow: a load, then a graceful stop
say "docker-compose up --exit-code-from memload"
compose_up=1
compose up --exit-code-from memload >"$logs/up-memload.log" 2>&1 ||
  { tail -n 40 "$logs/up-memload.log" >&2; fail "docker-compose up --exit-code-from memload"; }
grep -E 'ops/s|error' "$logs/up-memload.log" | grep memload | head -n 8 || true
server_id=$(docker ps -aq --filter "label=com.docker.compose.project=$project" \
  --filter "label=com.docker.compose.service=memserverd")
code=$(docker inspect --format '{{.State.ExitCode}}' "$server_id")
[ "$code" = 0 ] || fail "memserverd exited $code after SIGTERM (see $logs/up-memload.log)"
say "memload passed; memserverd stopped by SIGTERM exited 0"

# ---- 5. health, memctl from the host, graceful restart on the same volume
wait_healthy() {
  local id deadline=$(($(date +%s) + 120)) state=""
  id=$(compose ps -q memserverd)
  while [ "$(date +%s)" -lt "$deadline" ]; do
    state=$(docker inspect --format '{{.State.Health.Status}}' "$id" 2>/dev/null || true)
    [ "$state" = healthy ] && return 0
    sleep 1
  done
  fail "memserverd not healthy after 120 s (last: ${state:-none})"
}
compose up -d memserverd prometheus >"$logs/up-d.log" 2>&1 ||
  { cat "$logs/up-d.log" >&2; fail "docker-compose up -d"; }
wait_healthy
say "memserverd healthy (HEALTHCHECK: memserver-health); gRPC on 127.0.0.1:$MEMSERVER_HOST_PORT"

build="${MEMSERVER_BUILD_DIR:-$root/build}"
if [ -x "$build/client/memctl/memctl" ]; then
  memctl=("$build/client/memctl/memctl")
else
  say "no $build/client/memctl/memctl: using the image's memctl on the host's network"
  memctl=(docker run --rm --network host -v "$MEMSERVER_CREDENTIALS:$MEMSERVER_CREDENTIALS:ro" \
    --entrypoint memctl memserver:latest)
fi
mc() {
  "${memctl[@]}" --server "127.0.0.1:$MEMSERVER_HOST_PORT" --tls-ca "$MEMSERVER_CREDENTIALS/ca.pem" \
    --token-file "$MEMSERVER_CREDENTIALS/tokens/app.token" "$@"
}
# Closed by default: without a token the call is refused.
if "${memctl[@]}" --server "127.0.0.1:$MEMSERVER_HOST_PORT" --tls-ca "$MEMSERVER_CREDENTIALS/ca.pem" ps \
     >"$logs/no-token.log" 2>&1; then
  fail "memctl without a token was served"
fi
grep -q UNAUTHENTICATED "$logs/no-token.log" || { cat "$logs/no-token.log" >&2; fail "no UNAUTHENTICATED without a token"; }
say "a call without a token is UNAUTHENTICATED"
message="docker-test $$ $(date +%s%N)"
pid=$(mc create --name docker-test | tail -n 1)
[[ "$pid" =~ ^[0-9]+$ ]] || fail "memctl create printed '$pid'"
addr=$(mc mmap "$pid" 64KiB | tail -n 1)
mc write "$pid" "$addr" --string "$message" >/dev/null
got=$(mc read --raw "$pid" "$addr" "${#message}")
[ "$got" = "$message" ] || fail "memctl read back '$got', wrote '$message'"
say "memctl round trip: pid $pid, wrote and read ${#message} bytes at $addr"

compose restart -t 60 memserverd >"$logs/restart.log" 2>&1 || fail "docker-compose restart"
wait_healthy
got=$(mc read --raw "$pid" "$addr" "${#message}")
[ "$got" = "$message" ] || fail "after a graceful restart pid $pid reads '$got', not '$message'"
mc exit "$pid" >/dev/null
say "after docker-compose restart (SIGTERM, checkpoint, start on the same volume) pid $pid" \
  "reads the same bytes"

# ---- 6. Prometheus scraped memserver
query="memserver_frames{job=\"memserver\"}"
deadline=$(($(date +%s) + 90))
until python3 - "$PROMETHEUS_HOST_PORT" "$query" <<'EOF' 2>/dev/null; do
import json, sys, urllib.parse, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/api/v1/query?query=" + urllib.parse.quote(sys.argv[2])
reply = json.load(urllib.request.urlopen(url, timeout=5))
sys.exit(0 if reply.get("status") == "success" and reply["data"]["result"] else 1)
EOF
  [ "$(date +%s)" -lt "$deadline" ] || fail "Prometheus has no $query after 90 s"
  sleep 2
done
say "Prometheus scraped memserver ($query has samples)"

compose stop -t 60 >"$logs/stop.log" 2>&1
say "total $(($(date +%s) - started))s"
