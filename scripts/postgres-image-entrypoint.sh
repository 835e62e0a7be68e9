#!/bin/sh
# Entrypoint of localhost/offsite-postgres (scripts/postgres-image.sh), with the official postgres
# image's conventions: POSTGRES_PASSWORD (required, unless POSTGRES_HOST_AUTH_METHOD=trust),
# POSTGRES_USER (postgres), POSTGRES_DB (the user's name), PGDATA; the command is `postgres` and its
# arguments (or only arguments, starting with -). The first start runs initdb; the server listens
# on 5432 on every address, with password (scram-sha-256) authentication over TCP.
set -eu

if [ "${1#-}" != "$1" ]; then set -- postgres "$@"; fi

# `postgres --version` and the like only print: no data directory for them.
server=false
if [ "$1" = postgres ]; then
  server=true
  for arg; do
    case "$arg" in -'?' | --help | --describe-config | -V | --version) server=false ;; esac
  done
fi

if $server && [ "$(id -u)" = 0 ]; then
  # PostgreSQL refuses to run as root: prepare the data directory, then start again as postgres.
  mkdir -p "$PGDATA" /var/run/postgresql
  chown postgres:postgres "$PGDATA" /var/run/postgresql
  chmod 0700 "$PGDATA"
  # `--`: su would otherwise take the server's own `-c name=value` arguments as its command.
  exec su -p -s /bin/sh -c 'exec "$0" "$@"' postgres -- "$0" "$@"
fi

if $server && [ ! -s "$PGDATA/PG_VERSION" ]; then
  user="${POSTGRES_USER:-postgres}"
  auth="${POSTGRES_HOST_AUTH_METHOD:-scram-sha-256}"
  if [ -z "${POSTGRES_PASSWORD:-}" ] && [ "$auth" != trust ]; then
    echo "offsite-postgres: POSTGRES_PASSWORD is not set; set it (or POSTGRES_HOST_AUTH_METHOD=trust)" >&2
    exit 1
  fi
  # The password reaches initdb through a file, never its argv.
  pwfile="$(mktemp)"
  printf '%s\n' "${POSTGRES_PASSWORD:-}" >"$pwfile"
  initdb -D "$PGDATA" -U "$user" --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host="$auth" --no-sync >/dev/null
  rm -f "$pwfile"
  printf 'host all all all %s\n' "$auth" >>"$PGDATA/pg_hba.conf"
  printf "listen_addresses = '*'\n" >>"$PGDATA/postgresql.conf"
  db="${POSTGRES_DB:-$user}"
  if [ "$db" != postgres ]; then
    postgres --single -D "$PGDATA" -j postgres <<EOF >/dev/null
CREATE DATABASE "$db";
EOF
  fi
  unset POSTGRES_PASSWORD
fi

exec "$@"
