#!/usr/bin/env bash
# A private PostgreSQL cluster for the team server or for the tests, from the distribution's packages.
#
#   deploy/postgres.sh start DIR PORT   create the cluster in DIR if it is new, start it on 127.0.0.1:PORT,
#                                       and make the role `mlflow` with the databases `mlflow` and `mlflow_auth`
#   deploy/postgres.sh stop DIR         stop it (fast shutdown)
#
# The server runs as the `postgres` user when this is run as root (initdb refuses root). The role's
# password comes from WORKBENCH_DB_PASSWORD and is never written to a file here. Connections from
# outside the server's own socket must give that password (scram-sha-256).
set -euo pipefail

usage() { echo "usage: $0 start DIR PORT | stop DIR" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
action=$1
dir=$(realpath -m "$2")

bindir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [[ -z "$bindir" ]]; then
  echo "PostgreSQL is not installed: apt-get install -y postgresql" >&2
  exit 3
fi

as_owner() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

case "$action" in
  start)
    [[ $# -eq 3 ]] || usage
    port=$3
    : "${WORKBENCH_DB_PASSWORD:?set WORKBENCH_DB_PASSWORD to the password for the mlflow database role}"
    mkdir -p "$dir"
    if [[ $(id -u) -eq 0 ]]; then
      chown postgres:postgres "$dir" && chmod 700 "$dir"
      runuser -u postgres -- test -x "$dir" || {
        echo "the postgres user cannot reach $dir: choose a folder whose parents it may enter (chmod o+x)" >&2; exit 3; }
    fi
    if [[ ! -f "$dir/PG_VERSION" ]]; then
      echo ">> initdb: new cluster in $dir"
      as_owner "$bindir/initdb" --pgdata="$dir" --username=postgres --encoding=UTF8 --locale=C \
        --auth-local=trust --auth-host=scram-sha-256 >"$dir.initdb.log" 2>&1 \
        || { cat "$dir.initdb.log" >&2; exit 1; }
    fi
    if as_owner "$bindir/pg_ctl" --pgdata="$dir" status >/dev/null 2>&1; then
      echo ">> PostgreSQL already running in $dir"
    else
      echo ">> pg_ctl start: $("$bindir/postgres" --version) on 127.0.0.1:$port, data in $dir"
      as_owner "$bindir/pg_ctl" --pgdata="$dir" --log="$dir/server.log" --wait --timeout=60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200" start
      sed -n '1,20p' "$dir/server.log"
    fi
    psql=("$bindir/psql" -h "$dir" -p "$port" -U postgres -v ON_ERROR_STOP=1 -qAt)
    exists=$(as_owner "${psql[@]}" -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname = 'mlflow'")
    if [[ -z "$exists" ]]; then
      # psql reads the password from the environment, so it never appears in a process list.
      as_owner "${psql[@]}" -d postgres <<'SQL'
\getenv pw WORKBENCH_DB_PASSWORD
CREATE ROLE mlflow LOGIN CREATEDB PASSWORD :'pw';
SQL
      as_owner "${psql[@]}" -d postgres -c "CREATE DATABASE mlflow OWNER mlflow"
      as_owner "${psql[@]}" -d postgres -c "CREATE DATABASE mlflow_auth OWNER mlflow"
      echo ">> created role mlflow and databases mlflow, mlflow_auth"
    fi
    echo ">> PostgreSQL ready: postgresql://mlflow:***@127.0.0.1:$port/mlflow"
    ;;
  stop)
    as_owner "$bindir/pg_ctl" --pgdata="$dir" --mode=fast --wait stop
    ;;
  *) usage ;;
esac
