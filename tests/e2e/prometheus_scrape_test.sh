#!/usr/bin/env bash
# Debian's prometheus scrapes a short `seer train` run on 127.0.0.1 (deploy/prometheus/prometheus.yml's port
# scheme) and answers `seer_learner_step` through its HTTP API with the learner's step.
# Usage: prometheus_scrape_test.sh SEER_BINARY
set -u
. "$(dirname "$0")/lib.sh"
seer=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$tmp"' EXIT
command -v prometheus >/dev/null || { echo "FAIL: prometheus is not installed (scripts/install-deps.sh installs it)"; exit 1; }
metrics_port=$(free_port)
prom_port=$(free_port)

tiny_fixture "$seer" "$tmp" digits-classify 32 8
cat >"$tmp/config.yaml" <<YAML
name: scrape-test
run_dir: $tmp/run
model:
  path: $tmp/model
  freeze_vision_tower: false
data:
  train: $tmp/data/sft_train.jsonl
algorithm:
  name: sft
trainer:
  steps: 100000
  prompts_per_step: 2
  micro_batch_size: 2
  lr: 1.0e-4
checkpoint:
  every_steps: 0
metrics:
  prometheus: true
  port: $metrics_port
compute:
  threads: 1
YAML
# The shipped config with its base port replaced by this test's.
sed -e "s/127.0.0.1:9400\"/127.0.0.1:$metrics_port\"/" -e 's/scrape_interval: 5s/scrape_interval: 1s/' \
  "$here/../../deploy/prometheus/prometheus.yml" >"$tmp/prometheus.yml"
grep -q "127.0.0.1:$metrics_port\"" "$tmp/prometheus.yml" || { echo "FAIL: deploy/prometheus/prometheus.yml has no 9400 target"; exit 1; }

OMP_WAIT_POLICY=PASSIVE "$seer" train "$tmp/config.yaml" >"$tmp/train.log" 2>&1 &
pids+=("$!")
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
  --web.listen-address="127.0.0.1:$prom_port" >"$tmp/prometheus.log" 2>&1 &
pids+=("$!")
for _ in $(seq 600); do
  value=$(python3 - "$prom_port" <<'PY' 2>/dev/null
import json, sys, urllib.request
url = f"http://127.0.0.1:{sys.argv[1]}/api/v1/query?query=seer_learner_step"
r = json.load(urllib.request.urlopen(url, timeout=2))
res = r["data"]["result"]
print(res[0]["value"][1] if res else "")
PY
)
  if [ -n "$value" ] && [ "${value%%.*}" -ge 3 ] 2>/dev/null; then
    echo "ok: prometheus scraped seer_learner_step = $value"
    exit 0
  fi
  sleep 0.1
done
echo "FAIL: prometheus never reported seer_learner_step >= 3 (last: '$value')"
tail -5 "$tmp/train.log" "$tmp/prometheus.log"
exit 1
