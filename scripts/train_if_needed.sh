#!/usr/bin/env bash
# Train a model only when what it is trained from changed (or with --force).
# The fingerprint covers the training data, the config, the domain and the
# custom NLU code, so editing any of them retrains and nothing else does.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=models/assistant.tar.gz
FP_FILE=models/.fingerprint
fingerprint() {
  find config.yml domain.yml data bot/nlu bot/resources scripts/build_spacy.py -type f \
      \( -name '*.yml' -o -name '*.yaml' -o -name '*.py' -o -name '*.txt' -o -name '*.npz' \) 2>/dev/null \
    | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1
}
fp=$(fingerprint)
if [ "${1:-}" != "--force" ] && [ -f "$MODEL" ] && [ "$(cat "$FP_FILE" 2>/dev/null)" = "$fp" ]; then
  echo "Model is up to date ($MODEL)."
  exit 0
fi
if grep -q "SpacyNLP" config.yml; then .venv/bin/python scripts/build_spacy.py; fi
echo "Training the model (data, config or domain changed)..."
start=$(date +%s)
.venv/bin/rasa train --config config.yml --domain domain.yml --data data \
  --out models --fixed-model-name assistant --quiet
echo "$fp" > "$FP_FILE"
echo "Trained $MODEL in $(( $(date +%s) - start )) s."
