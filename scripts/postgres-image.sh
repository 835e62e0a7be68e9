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
packages=("postgresql-$major" "postgresql-client-$major" libpq5 busybox-static)

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
      if [ -f "$f" ] && [ ! -L "$f" ]; then printf '%s\n' "$f"; fi
    done >"$root.files"
  # Their shared libraries, recursively (ldd resolves the whole closure), and the loader.
  { grep -E '/bin/|\.so' "$root.files" | xargs -r ldd 2>/dev/null || true; } |
    awk '/=> \//{print $3} /^\t\/lib64\//{print $1}' | sort -u >"$root.libs"
  # initdb's C.UTF-8 locale; the time zone data the server reads (Debian builds it against it).
  cat "$root.files" "$root.libs" | sort -u | tar -cf - --files-from=- --dereference 2>/dev/null |
    tar -xf - -C "$root"
  tar -cf - /usr/lib/locale/C.utf8 /usr/share/zoneinfo 2>/dev/null | tar -xf - -C "$root"
  # Debian's merged /usr: /bin and /lib are links into /usr.
  for d in bin sbin lib lib64; do
    if [ -d "$root/$d" ] && [ ! -L "$root/$d" ]; then
      mkdir -p "$root/usr/$d" && cp -a "$root/$d/." "$root/usr/$d/" && rm -rf "${root:?}/$d"
    fi
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
echo "offsite: built $tag ($(du -h "$tarball" | cut -f1) root file system)" >&2
