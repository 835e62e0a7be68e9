#!/usr/bin/env bash
# A container engine for the tests of scratch.kind: docker and of infra/Dockerfile, on a Debian
# machine without Docker: Debian's podman (with runc), serving the Docker API on a socket, and
# the image localhost/offsite-postgres:<major> built from the installed PostgreSQL packages
# (scripts/postgres-image.sh). Idempotent; run as root.
#
# What it leaves in $OFFSITE_ENGINE_DIR (default /run/offsite):
#   podman.sock            the Docker API (podman system service)
#   container-engine.env   KEY=value lines for the tests: DOCKER_HOST, TESTCONTAINERS_RYUK_DISABLED
#                          and OFFSITE_TEST_POSTGRES_IMAGE, or OFFSITE_CONTAINER_ENGINE_UNAVAILABLE
#                          with the reason
#   container-engine.lock  held while this script works: `flock -s` on it waits until it is done
#
# --background: take the lock, then do the work in the background (CI overlaps it with the tests;
# a test that needs the engine waits on the lock, never on a clock).
set -euo pipefail
cd "$(dirname "$0")/.."

dir="${OFFSITE_ENGINE_DIR:-/run/offsite}"
mkdir -p "$dir"
env_file="$dir/container-engine.env"
log="$dir/container-engine.log"
sock="$dir/podman.sock"

exec 9>"$dir/container-engine.lock"
flock 9

unavailable() {
  echo "offsite: no container engine: $1 (see $log)" >&2
  printf 'OFFSITE_CONTAINER_ENGINE_UNAVAILABLE=%s\n' "$1" >"$env_file"
  exit 0
}

setup() {
  local started
  started=$(date +%s)
  rm -f "$env_file"
  if [ "$(id -u)" != 0 ]; then unavailable "scripts/container-engine.sh needs root (it installs podman)"; fi
  if ! command -v podman >/dev/null || ! command -v runc >/dev/null || ! command -v busybox >/dev/null; then
    echo "offsite: installing podman, runc and busybox-static from Debian's packages (used by the tests)" >&2
    export DEBIAN_FRONTEND=noninteractive
    { apt-get install -y -qq podman runc busybox-static || { apt-get update -qq && apt-get install -y -qq podman runc busybox-static; }; } \
      >>"$log" 2>&1 || unavailable "apt-get install podman runc busybox-static failed"
  fi

  # crun (podman's default) fails on hybrid cgroups, and the engine's default ulimits are refused
  # in an unprivileged machine: runc and modest ulimits, for podman's CLI and its API clients alike.
  mkdir -p /etc/containers/containers.conf.d
  cat >/etc/containers/containers.conf.d/offsite.conf <<'EOF'
# Written by offsite's scripts/container-engine.sh.
[containers]
# Soft = hard: podman 4.3's Docker API swaps a differing pair (soft above hard, refused by runc).
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]

[engine]
runtime = "runc"
EOF

  if ! podman --url "unix://$sock" version >/dev/null 2>&1; then
    rm -f "$sock"
    # The service must not hold the lock (fd 9): it outlives this script.
    setsid podman system service --time=0 "unix://$sock" </dev/null >>"$log" 2>&1 9>&- &
    for _ in $(seq 1 100); do
      podman --url "unix://$sock" version >/dev/null 2>&1 && break
      sleep 0.1
    done
    podman --url "unix://$sock" version >/dev/null 2>&1 || unavailable "podman system service did not answer on $sock"
  fi

  local major
  major="$(ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1)"
  [ -n "$major" ] || unavailable "no PostgreSQL server in /usr/lib/postgresql to build the image from"
  bash scripts/postgres-image.sh "$major" >>"$log" 2>&1 9>&- || unavailable "scripts/postgres-image.sh failed"
  # A container must start and publish its port: the check the tests would otherwise fail on.
  podman run --rm "localhost/offsite-postgres:$major" postgres --version >>"$log" 2>&1 9>&- ||
    unavailable "podman run localhost/offsite-postgres:$major failed"

  {
    printf 'DOCKER_HOST=unix://%s\n' "$sock"
    # No image registry here: the reaper's image cannot be pulled. offsite stops its containers itself.
    printf 'TESTCONTAINERS_RYUK_DISABLED=true\n'
    printf 'OFFSITE_TEST_POSTGRES_IMAGE=localhost/offsite-postgres:%s\n' "$major"
  } >"$env_file"
  echo "offsite: container engine ready in $(($(date +%s) - started)) s: podman on $sock, image localhost/offsite-postgres:$major" >&2
}

if [ "${1:-}" = --background ]; then
  setup >>"$log" 2>&1 &
  echo "offsite: setting up the container engine in the background (log: $log)" >&2
else
  setup
fi
