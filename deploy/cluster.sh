#!/usr/bin/env bash
# `make cluster` / `make cluster-stop`: the several-machine layout on one machine, on loopback.
#
#   nginx        127.0.0.1:5005  the balancer shoppers, agents and trainers reach (same URLs as make run)
#   nginx        127.0.0.1:5055  the balancer the Rasa replicas call actions through
#   rasa-1/2     127.0.0.1:5011, 5012   Rasa replicas (python -m bot.serve run)
#   actions-1/2  127.0.0.1:5061, 5062   action servers
#   redis        127.0.0.1:6380  conversation locks, Socket.IO manager, widget outbox
#   postgresql   127.0.0.1:5432  tracker store and shop database (one role + database per checkout)
#
# Usage: deploy/cluster.sh start|stop|status. Logs and pids in var/cluster/ (CLUSTER_RUN), ports
# from CLUSTER_PORT, CLUSTER_ACTIONS_PORT, CLUSTER_REDIS_PORT, CLUSTER_RASA_PORTS and
# CLUSTER_ACTION_PORTS (one port per replica: "5011" runs a single replica). Installs what it
# needs from Debian (as root) the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
export SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2 RASA_TELEMETRY_ENABLED=false
RUN=${CLUSTER_RUN:-$(pwd)/var/cluster}
PUBLIC_PORT=${CLUSTER_PORT:-5005}
ACTIONS_PORT=${CLUSTER_ACTIONS_PORT:-5055}
REDIS_PORT=${CLUSTER_REDIS_PORT:-6380}
RASA_PORTS=(${CLUSTER_RASA_PORTS:-5011 5012})
ACTION_PORTS=(${CLUSTER_ACTION_PORTS:-5061 5062})
PY=.venv/bin/python

alive() {  # pidfile: a running process (a killed one may linger as a zombie nobody reaps)
  [ -f "$1" ] || return 1
  local pid; pid=$(cat "$1")
  [ -r "/proc/$pid/status" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$pid/status"
}

need() {  # Debian packages, installed once
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx-light)
  command -v pg_ctlcluster >/dev/null || missing+=(postgresql)
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || { echo "cluster: please install ${missing[*]} (needs root)"; exit 1; }
    echo "cluster: installing ${missing[*]} (once)..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
}

database() {  # a role and database of this checkout's cluster; the password only in var/
  local version name password
  version=$(ls /etc/postgresql | sort -V | tail -1)
  pg_ctlcluster "$version" main start 2>/dev/null || true
  for _ in $(seq 1 30); do su postgres -c "psql -qtAc 'select 1'" >/dev/null 2>&1 && break; sleep 0.5; done
  name="shop_cluster_$(echo "$RUN" | sha1sum | cut -c1-8)"  # one database per cluster folder
  if [ ! -s "$RUN/database_url" ]; then
    password=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
    su postgres -c "psql -qtAc \"SELECT 1 FROM pg_roles WHERE rolname='$name'\"" | grep -q 1 \
      || su postgres -c "psql -qc 'CREATE ROLE $name LOGIN'" >/dev/null
    su postgres -c "psql -qc \"ALTER ROLE $name PASSWORD '$password'\"" >/dev/null
    su postgres -c "psql -qtAc \"SELECT 1 FROM pg_database WHERE datname='$name'\"" | grep -q 1 \
      || su postgres -c "createdb -O $name $name"
    (umask 077; echo "postgresql+psycopg2://$name:$password@127.0.0.1:5432/$name" > "$RUN/database_url")
  fi
}

wait_up() {  # url, name, pidfile
  for _ in $(seq 1 240); do
    curl -fs "$1" >/dev/null 2>&1 && return 0
    alive "$3" || { echo "cluster: $2 exited; see $RUN/$2.log"; tail -20 "$RUN/$2.log"; exit 1; }
    sleep 0.5
  done
  echo "cluster: $2 not up after 120 s; see $RUN/$2.log"; exit 1
}

start_one() {  # name, command...
  local name=$1; shift
  if alive "$RUN/$name.pid"; then return; fi
  nohup "$@" > "$RUN/$name.log" 2>&1 &
  echo $! > "$RUN/$name.pid"
}

start() {
  need
  mkdir -p "$RUN"
  database
  DATABASE_URL=$(cat "$RUN/database_url"); export DATABASE_URL
  if ! alive "$RUN/redis.pid"; then
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --pidfile "$RUN/redis.pid" \
      --dir "$RUN" --save "" --appendonly yes --logfile "$RUN/redis.log"
  fi
  $PY -m bot db seed
  REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"; export REDIS_URL
  $PY -m bot.cluster.config endpoints.yml "$RUN/endpoints.yml" --actions "http://127.0.0.1:$ACTIONS_PORT/webhook" \
    --redis-port "$REDIS_PORT"
  local i=0
  for port in "${ACTION_PORTS[@]}"; do
    i=$((i + 1))
    start_one "actions-$i" .venv/bin/rasa run actions --actions actions --port "$port"
  done
  i=0
  for port in "${RASA_PORTS[@]}"; do
    i=$((i + 1))
    start_one "rasa-$i" $PY -m bot.serve run --model models/assistant.tar.gz --endpoints "$RUN/endpoints.yml" \
      --credentials credentials.yml --port "$port"
  done
  local servers="" action_servers=""
  for port in "${RASA_PORTS[@]}"; do servers+="        server 127.0.0.1:$port max_fails=0;"$'\n'; done
  for port in "${ACTION_PORTS[@]}"; do action_servers+="        server 127.0.0.1:$port max_fails=0;"$'\n'; done
  USER_NAME="$(id -un)" RASA_SERVERS="$servers" ACTION_SERVERS="$action_servers" $PY - "$RUN" "$PUBLIC_PORT" "$ACTIONS_PORT" <<'PYEOF'
import os, sys
run, public, actions = sys.argv[1:4]
text = open("deploy/nginx.conf.in").read()
for key, value in {"USER": os.environ.get("USER_NAME", "root"), "RUN": run, "PUBLIC_PORT": public, "ACTIONS_PORT": actions,
                   "RASA_SERVERS": os.environ["RASA_SERVERS"].rstrip("\n"),
                   "ACTION_SERVERS": os.environ["ACTION_SERVERS"].rstrip("\n")}.items():
    text = text.replace(f"@{key}@", value)
open(f"{run}/nginx.conf.new", "w").write(text)
PYEOF
  /usr/sbin/nginx -t -q -c "$RUN/nginx.conf.new" -p "$RUN"
  if alive "$RUN/nginx.pid"; then
    # A reload closes idle keep-alive connections, which a client may be reusing at that very moment
    # (the request then fails before nginx reads it): reload only when the layout really changed.
    if ! cmp -s "$RUN/nginx.conf.new" "$RUN/nginx.conf"; then
      mv "$RUN/nginx.conf.new" "$RUN/nginx.conf"
      /usr/sbin/nginx -c "$RUN/nginx.conf" -p "$RUN" -s reload
    else
      rm -f "$RUN/nginx.conf.new"
    fi
  else
    mv "$RUN/nginx.conf.new" "$RUN/nginx.conf"
    /usr/sbin/nginx -c "$RUN/nginx.conf" -p "$RUN"
  fi
  i=0
  for port in "${ACTION_PORTS[@]}"; do i=$((i + 1)); wait_up "http://127.0.0.1:$port/health" "actions-$i" "$RUN/actions-$i.pid"; done
  i=0
  for port in "${RASA_PORTS[@]}"; do i=$((i + 1)); wait_up "http://127.0.0.1:$port/" "rasa-$i" "$RUN/rasa-$i.pid"; done
  cat <<MSG

  售后助手 cluster is up (2 Rasa replicas, 2 action servers, PostgreSQL, Redis, nginx).
  - Web chat (demo shop page): http://localhost:$PUBLIC_PORT/widget/demo
  - Console:                   http://localhost:$PUBLIC_PORT/console
  - REST: curl -s localhost:$PUBLIC_PORT/webhooks/rest/webhook -d '{"sender":"me","message":"你好"}'
  Logs: $RUN/*.log    Stop: make cluster-stop

MSG
}

stop() {
  [ -f "$RUN/nginx.pid" ] && /usr/sbin/nginx -c "$RUN/nginx.conf" -p "$RUN" -s quit 2>/dev/null || true
  for pidfile in "$RUN"/rasa-*.pid "$RUN"/actions-*.pid; do
    [ -f "$pidfile" ] || continue
    kill "$(cat "$pidfile")" 2>/dev/null || true
    rm -f "$pidfile"
  done
  [ -f "$RUN/redis.pid" ] && kill "$(cat "$RUN/redis.pid")" 2>/dev/null || true
  echo "cluster: stopped (PostgreSQL keeps running: it is the machine's service)."
}

status() {
  for pidfile in "$RUN"/*.pid; do
    [ -f "$pidfile" ] || continue
    name=$(basename "$pidfile" .pid)
    if alive "$pidfile"; then echo "$name: running"; else echo "$name: stopped"; fi
  done
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  *) echo "usage: $0 start|stop|status"; exit 2 ;;
esac
