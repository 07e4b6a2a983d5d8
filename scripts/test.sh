#!/usr/bin/env bash
# The whole test suite, in the order that fails fastest. `make test` runs it after
# installing, training (if needed), seeding the database and starting PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
export SQLALCHEMY_SILENCE_UBER_WARNING=1 TF_CPP_MIN_LOG_LEVEL=2 RASA_TELEMETRY_ENABLED=false
if [ -f var/test_database_url ]; then
  TEST_DATABASE_URL=$(cat var/test_database_url)
  export TEST_DATABASE_URL
fi
step() { printf '\n=== %s ===\n' "$*"; }

step "rasa data validate"
.venv/bin/rasa data validate --data data --domain domain.yml --config config.yml

step "conversation tests (rasa test core, --fail-on-prediction-errors)"
.venv/bin/python -m bot.serve test core --model models/assistant.tar.gz --stories tests/conversations \
  --fail-on-prediction-errors --out results/conversations --no-plot

step "NLU evaluation: real test set (floor: macro-F1 0.84) and held-out set (floor: macro-F1 0.85)"
.venv/bin/python scripts/eval_nlu.py --floor 0.85 --real-floor 0.84

step "pytest: unit, actions, REST channel"
.venv/bin/python -m pytest
