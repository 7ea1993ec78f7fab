#!/usr/bin/env bash
# The production set-up of this folder, built on one machine for tests and rehearsals: a primary
# and a streaming standby (synchronous) on loopback ports, TLS with a CA made here, pg_hba
# allow-listing, the roles and grants of roles.sql/grants.sql, and a pgBackRest repository with
# an encrypted full backup and WAL archiving; the standby is built from that backup.
#
#   pair.sh up DIR         build and start both; writes DIR/env (URLs, mode 0600)
#   pair.sh grants DIR     run grants.sql (after `enshin migrate` with PAIR_OWNER_URL)
#   pair.sh failover DIR   kill -9 the primary, promote the standby, move the service port to it
#   pair.sh backup DIR     pgBackRest check and an incremental backup of the current primary
#   pair.sh status DIR     who is primary, replication state
#   pair.sh down DIR       stop both and remove DIR
#
# Needs PostgreSQL's server binaries (PGBIN, default the newest /usr/lib/postgresql/*/bin),
# pgbackrest and openssl. Run as root, the clusters run as the user postgres; otherwise as you.
# Ports: PAIR_PORT (the service port, default 55433) and PAIR_STANDBY_PORT (default 55434).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:?usage: pair.sh up|grants|failover|backup|status|down DIR}
dir=${2:?usage: pair.sh $cmd DIR}
PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}
port=${PAIR_PORT:-55433}
standby_port=${PAIR_STANDBY_PORT:-55434}
# The ports chosen at `up` hold for every later command on DIR.
if [ "$cmd" != up ] && [ -f "$dir/ports" ]; then
  . "$dir/ports"
fi

if [ "$(id -u)" = 0 ]; then
  owner=postgres
  group=$(id -gn postgres)
  as_pg() { runuser -u postgres -- "$@"; }
else
  owner=$(id -un)
  group=$(id -gn)
  as_pg() { "$@"; }
fi

# psql on a cluster's own socket as the superuser; setup sessions do not wait for a standby.
sql() {
  local p=$1
  shift
  PGOPTIONS="-c synchronous_commit=local" as_pg "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 \
    -h "$dir/sock" -p "$p" -d postgres "$@"
}

pg_ctl() { as_pg "$PGBIN/pg_ctl" "$@"; }
pgbr() { as_pg pgbackrest --config="$dir/$1" --stanza=enshin "${@:2}"; }

# The port a cluster listens on, from its local.conf.
port_of() { sed -n "s/^port = \([0-9]*\)$/\1/p" "$1/local.conf"; }

wait_for() {
  local what=$1 tries=$2
  shift 2
  for _ in $(seq 1 "$tries"); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "pair.sh: timed out waiting for $what" >&2
  return 1
}

# The settings that differ from enshin.conf on this one machine.
local_conf() {
  local data=$1 p=$2 config=$3
  cat >"$data/local.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $p
unix_socket_directories = '$dir/sock'
synchronous_standby_names = 'ANY 1 (standby1)'
archive_command = 'pgbackrest --config=$dir/$config --stanza=enshin archive-push %p'
CONF
  chown "$owner:$group" "$data/local.conf"
}

up() {
  if [ -e "$dir" ]; then
    echo "pair.sh: $dir exists; use another directory or pair.sh down $dir" >&2
    exit 2
  fi
  mkdir -p "$dir"/{tls,sock,repo,log,spool,lock}
  printf 'port=%s\nstandby_port=%s\n' "$port" "$standby_port" >"$dir/ports"
  local pw_owner pw_app pw_repl cipher
  pw_owner=$(openssl rand -hex 24)
  pw_app=$(openssl rand -hex 24)
  pw_repl=$(openssl rand -hex 24)
  cipher=$(openssl rand -base64 48 | tr -d '\n')

  # A CA and a server certificate for localhost / 127.0.0.1 (both clusters use it: a promoted
  # standby answers for the same name).
  (
    cd "$dir/tls"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 \
      -subj "/CN=enshin pair CA" -keyout ca.key -out ca.crt \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=localhost" \
      -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature\nbasicConstraints=critical,CA:FALSE\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 30 \
      -extfile server.ext -out server.crt 2>/dev/null
    rm -f server.csr server.ext ca.srl
  )
  chown -R "$owner:$group" "$dir"
  chmod 700 "$dir"

  cat >"$dir/pgbackrest.conf" <<CONF
[global]
repo1-path=$dir/repo
repo1-cipher-type=aes-256-cbc
repo1-cipher-pass=$cipher
repo1-retention-full=2
compress-type=zst
start-fast=y
log-path=$dir/log
lock-path=$dir/lock
spool-path=$dir/spool
log-level-console=warn
log-level-file=detail

[enshin]
pg1-path=$dir/primary
pg1-port=$port
pg1-socket-path=$dir/sock
CONF
  sed -e "s#^pg1-path=.*#pg1-path=$dir/standby#" -e "s#^pg1-port=.*#pg1-port=$standby_port#" \
    "$dir/pgbackrest.conf" >"$dir/pgbackrest-standby.conf"
  chown "$owner:$group" "$dir"/pgbackrest*.conf
  chmod 600 "$dir"/pgbackrest*.conf

  as_pg "$PGBIN/initdb" -D "$dir/primary" --data-checksums --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=reject >"$dir/log/initdb.log"
  install -o "$owner" -g "$group" -m 600 "$dir/tls/server.crt" "$dir/tls/server.key" "$dir/primary/"
  # enshin.conf as shipped, with the production listen address left to local.conf.
  install -o "$owner" -g "$group" -m 600 "$here/enshin.conf" "$dir/primary/enshin.conf"
  printf "include 'enshin.conf'\ninclude 'local.conf'\n" >>"$dir/primary/postgresql.conf"
  local_conf "$dir/primary" "$port" pgbackrest.conf
  # pg_hba.conf as shipped, with every sample host replaced by loopback.
  sed -E -e "s#10\.0\.[0-9]+\.[0-9]+/32#127.0.0.1/32#" -e "s#^(local +all +)postgres#\1$owner#" \
    "$here/pg_hba.conf" | awk '!seen[$0]++' >"$dir/primary/pg_hba.conf"
  chown "$owner:$group" "$dir/primary/pg_hba.conf"
  pg_ctl -D "$dir/primary" -l "$dir/log/primary.log" -w start >/dev/null

  sql "$port" -v owner_password="$pw_owner" -v app_password="$pw_app" \
    -v replicator_password="$pw_repl" -f "$here/roles.sql"

  pgbr pgbackrest.conf stanza-create
  pgbr pgbackrest.conf check
  pgbr pgbackrest.conf --type=full backup

  # The standby, restored from the repository and streaming from the primary over TLS.
  local conninfo="host=localhost port=$port user=replicator password=$pw_repl sslmode=verify-full sslrootcert=$dir/tls/ca.crt application_name=standby1"
  as_pg mkdir -m 700 "$dir/standby"
  pgbr pgbackrest-standby.conf --type=standby --recovery-option="primary_conninfo=$conninfo" restore
  local_conf "$dir/standby" "$standby_port" pgbackrest-standby.conf
  pg_ctl -D "$dir/standby" -l "$dir/log/standby.log" -w start >/dev/null
  wait_for "the standby to stream synchronously" 120 streaming

  umask 077
  cat >"$dir/env" <<ENV
PAIR_OWNER_URL='postgres://enshin_owner:$pw_owner@localhost:$port/enshin?sslmode=verify-full&sslrootcert=$dir/tls/ca.crt'
PAIR_APP_URL='postgres://enshin_app:$pw_app@localhost:$port/enshin?sslmode=verify-full&sslrootcert=$dir/tls/ca.crt'
PAIR_PLAIN_URL='postgres://enshin_app:$pw_app@localhost:$port/enshin?sslmode=disable'
ENV
  echo "pair.sh: primary on 127.0.0.1:$port, standby1 on 127.0.0.1:$standby_port (synchronous); URLs in $dir/env"
}

# True once standby1 streams and counts for synchronous commits.
streaming() {
  [ "$(sql "$port" -At -c "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'standby1' AND state = 'streaming'")" = quorum ]
}

grants() { sql "$(port_of "$dir/primary")" -f "$here/grants.sql"; }

gone() { ! kill -0 "$1"; }

failover() {
  # The primary dies without warning, as a crashed host would.
  local pid
  pid=$(head -n1 "$dir/primary/postmaster.pid")
  kill -9 "$pid"
  wait_for "the primary to die" 60 gone "$pid"
  pg_ctl -D "$dir/standby" -w promote >/dev/null
  # The service address moves to the new primary (in production a DNS name or a VIP, README.md);
  # on one machine the promoted standby takes over the service port.
  local_conf "$dir/standby" "$port" pgbackrest-standby.conf
  # Alone now: commits cannot wait for a standby until a new one joins.
  sed -i "s/^synchronous_standby_names = .*/synchronous_standby_names = ''/" "$dir/standby/local.conf"
  sed -i "s/^pg1-port=.*/pg1-port=$port/" "$dir/pgbackrest-standby.conf"
  pg_ctl -D "$dir/standby" -l "$dir/log/standby.log" -m fast -w restart >/dev/null
  touch "$dir/promoted"
  echo "pair.sh: standby1 promoted and serving on 127.0.0.1:$port"
}

backup() {
  local conf=pgbackrest.conf
  [ -e "$dir/promoted" ] && conf=pgbackrest-standby.conf
  pgbr "$conf" check
  pgbr "$conf" --type=incr backup
  pgbr "$conf" --output=json info
}

status() {
  for node in primary standby; do
    [ -f "$dir/$node/local.conf" ] || continue
    local p
    p=$(port_of "$dir/$node")
    printf '%s (port %s): ' "$node" "$p"
    pg_ctl -D "$dir/$node" status >/dev/null 2>&1 || { echo down; continue; }
    sql "$p" -At -c "SELECT CASE WHEN pg_is_in_recovery() THEN 'standby' ELSE 'primary' END, (SELECT string_agg(application_name || ' ' || state || ' ' || sync_state, ', ') FROM pg_stat_replication)" 2>/dev/null || echo down
  done
}

down() {
  for node in standby primary; do
    if [ -f "$dir/$node/postmaster.pid" ]; then
      pg_ctl -D "$dir/$node" -m immediate -w stop >/dev/null 2>&1 || true
    fi
  done
  rm -rf "$dir"
}

case $cmd in
  up) up ;;
  grants) grants ;;
  failover) failover ;;
  backup) backup ;;
  status) status ;;
  down) down ;;
  *) echo "usage: pair.sh up|grants|failover|backup|status|down DIR" >&2; exit 2 ;;
esac
