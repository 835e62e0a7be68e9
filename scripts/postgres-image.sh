#!/usr/bin/env bash
# Builds localhost/offsite-postgres:<major>, a PostgreSQL server image, from the Debian packages
# already installed on this machine (no image registry, no network): the packages' files, their
# shared-library closure, busybox for a shell, and an entrypoint that follows the official
# postgres image's conventions (POSTGRES_PASSWORD, POSTGRES_USER, POSTGRES_DB, PGDATA, port 5432,
# `postgres -c name=value …` as the command). The root file system's tarball is cached under
# OFFSITE_IMAGE_CACHE (default /var/cache/offsite), keyed by the packages' versions, so a machine
# that keeps it only imports it again.
# Usage: scripts/postgres-image.sh [major]   (default: the newest /usr/lib/postgresql/<major>)
# Needs: podman, busybox-static (Debian), postgresql-<major> and postgresql-client-<major>.
set -euo pipefail
cd "$(dirname "$0")/.."

major="${1:-$(ls /usr/lib/postgresql | sort -n | tail -n 1)}"
tag="localhost/offsite-postgres:$major"
cache="${OFFSITE_IMAGE_CACHE:-/var/cache/offsite}"
# libc6, libstdc++6 and libgcc-s1 whole, and coreutils (env -S): what Node.js needs, for images
# built on this one (infra/Dockerfile).
packages=("postgresql-$major" "postgresql-client-$major" libpq5 libc6 libstdc++6 libgcc-s1 coreutils busybox-static)

versions="$(dpkg-query -W -f='${Package}=${Version}\n' "${packages[@]}")"
key="$(printf "%s\n" "$versions" "$(cat "$0" scripts/postgres-image-entrypoint.sh | sha256sum)" | sha256sum | cut -c1-16)"
tarball="$cache/offsite-postgres-$major-$key.tar"

# The image is already there and was built from these packages by this script: nothing to do.
if [ "$(podman image inspect --format '{{index .Config.Labels "offsite.key"}}' "$tag" 2>/dev/null)" = "$key" ]; then
  echo "offsite: image $tag is current" >&2
  exit 0
fi

if [ ! -s "$tarball" ]; then
  root="$(mktemp -d)"
  trap 'rm -rf "$root"' EXIT
  # The packages' own files, without LLVM's JIT (jit=off; it would pull in 100 MB of libLLVM).
  dpkg -L "${packages[@]}" | grep -v -e '/llvmjit' -e '/bitcode' -e '^/usr/share/doc' -e '^/usr/share/man' |
    while read -r f; do
      if [ -f "$f" ]; then printf '%s\n' "$f"; fi
    done >"$root.files"
  # Their shared libraries, recursively (ldd resolves the whole closure), and the loader.
  { grep -E '/bin/|\.so' "$root.files" | xargs -r ldd 2>/dev/null || true; } |
    awk '/=> \//{print $3} /^\t\/lib64\//{print $1}' | sort -u >"$root.libs"
  # Each path with its directory resolved (/lib/x86_64-linux-gnu is /usr/lib/x86_64-linux-gnu on
  # Debian's merged /usr) but its own name kept (a library's soname is often a link), copied as a
  # file. With initdb's C.UTF-8 locale and the time zone data the server reads.
  { cat "$root.files" "$root.libs"; find /usr/lib/locale/C.utf8 /usr/share/zoneinfo \( -type f -o -type l \); } |
    awk '{ d = $0; sub(/\/[^\/]*$/, "", d); if (!(d in real)) { cmd = "realpath \"" d "\""; cmd | getline real[d]; close(cmd) }
           n = $0; sub(/.*\//, "", n); print real[d] "/" n }' |
    sort -u | tar -cf - --files-from=- --dereference 2>/dev/null | tar -xf - -C "$root"
  for d in bin sbin lib lib64; do
    mkdir -p "$root/usr/$d" && ln -s "usr/$d" "$root/$d"
  done
  for applet in $(busybox --list); do
    [ -e "$root/usr/bin/$applet" ] || ln -s busybox "$root/usr/bin/$applet"
  done
  mkdir -p "$root/etc" "$root/tmp" "$root/var/lib/postgresql/data" "$root/var/run/postgresql" "$root/usr/local/bin"
  chmod 1777 "$root/tmp"
  printf 'root:x:0:0:root:/root:/bin/sh\npostgres:x:999:999:PostgreSQL:/var/lib/postgresql:/bin/sh\n' >"$root/etc/passwd"
  printf 'root:x:0:\npostgres:x:999:\n' >"$root/etc/group"
  printf '/bin/sh\n' >"$root/etc/shells"
  printf 'hosts: files\npasswd: files\ngroup: files\n' >"$root/etc/nsswitch.conf"
  printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"
  chown -R 999:999 "$root/var/lib/postgresql" "$root/var/run/postgresql"
  install -m 0755 scripts/postgres-image-entrypoint.sh "$root/usr/local/bin/docker-entrypoint.sh"
  mkdir -p "$cache"
  # Only one build's tarball is kept per major.
  rm -f "$cache/offsite-postgres-$major-"*.tar
  tar -C "$root" -cf "$tarball.partial" . && mv "$tarball.partial" "$tarball"
  rm -f "$root.files" "$root.libs"
fi

previous="$(podman image inspect --format '{{.Id}}' "$tag" 2>/dev/null || true)"
podman import \
  --change "ENV PATH=/usr/lib/postgresql/$major/bin:/usr/local/bin:/usr/bin:/bin" \
  --change 'ENV PGDATA=/var/lib/postgresql/data' \
  --change 'ENV LANG=C.UTF-8' \
  --change "LABEL offsite.key=$key" \
  --change 'EXPOSE 5432' \
  --change 'STOPSIGNAL SIGINT' \
  --change 'ENTRYPOINT ["/usr/local/bin/docker-entrypoint.sh"]' \
  --change 'CMD ["postgres"]' \
  "$tarball" "$tag" >/dev/null 2>&1
# The image this one replaces (built from other packages) is left untagged: remove it.
if [ -n "$previous" ] && [ "$previous" != "$(podman image inspect --format '{{.Id}}' "$tag")" ]; then
  podman rmi "$previous" >/dev/null 2>&1 || true
fi
echo "offsite: built $tag ($(du -h "$tarball" | cut -f1) root file system)" >&2
