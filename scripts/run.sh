#!/usr/bin/env bash
# Start the action server and the Rasa server together; Ctrl-C stops both.
# With --shell, the Rasa side is `rasa shell` in this terminal instead.
set -uo pipefail
cd "$(dirname "$0")/.."
export SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2 RASA_TELEMETRY_ENABLED=false
RASA_PORT=${RASA_PORT:-5005}
ACTIONS_PORT=${ACTIONS_PORT:-5055}
ENDPOINTS=endpoints.yml
if [ "$ACTIONS_PORT" != 5055 ]; then  # point the Rasa server at the action server's port
  mkdir -p var
  sed "s#:5055/#:$ACTIONS_PORT/#" endpoints.yml > var/endpoints.run.yml
  ENDPOINTS=var/endpoints.run.yml
fi
pids=()
stop() {
  trap - INT TERM EXIT
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null; done
  wait 2>/dev/null
  echo "Stopped."
}
trap stop INT TERM EXIT

.venv/bin/rasa run actions --actions actions --port "$ACTIONS_PORT" \
  > >(sed -u 's/^/[actions] /') 2>&1 &
pids+=($!)

if [ "${1:-}" = "--shell" ]; then
  .venv/bin/python -m bot.serve shell --model models/assistant.tar.gz --endpoints "$ENDPOINTS"
  exit $?
fi

echo "Starting Rasa on port $RASA_PORT (the model takes a few seconds to load)..."
# bot.serve = Rasa's own command line with the profiled serving fixes (bot/serving.py); web
# origins other than this server's own come from WIDGET_ALLOWED_ORIGINS (bot/channels/origins.py)
.venv/bin/python -m bot.serve run --model models/assistant.tar.gz --endpoints "$ENDPOINTS" \
  --credentials credentials.yml --port "$RASA_PORT" \
  > >(sed -u 's/^/[rasa]    /') 2>&1 &
pids+=($!)

for _ in $(seq 1 240); do
  if curl -fs "http://localhost:$RASA_PORT/" >/dev/null 2>&1; then
    cat <<MSG

  售后助手 is ready.
  - Web chat (demo shop page): http://localhost:$RASA_PORT/widget/demo
  - REST:  curl -s localhost:$RASA_PORT/webhooks/rest/webhook -d '{"sender":"me","message":"你好"}'
  Press Ctrl-C to stop both servers.

MSG
    break
  fi
  sleep 0.5
done
wait -n "${pids[@]}"
