#!/usr/bin/env bash
# Stability of `certify sender` verdicts under load: the guide's sender recipe (the reference
# Python sender at the guide's scale, default tolerance) and `certify sender` against `hooksim
# dispatch` (the guide's dispatch recipe) must each pass RUNS runs out of RUNS while two busy
# loops occupy both cores. Prints the counts; exits 1 when any run did not pass.
#
#   scripts/stability-sender.sh [RUNS] [HOOKSIM]     # defaults: 20, target/release/hooksim
#
# Each run is bounded by its --budget; each command by `timeout`. The busy loops are this
# script's own children and are killed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
bin="${2:-target/release/hooksim}"
[ -x "$bin" ] || { echo "no hooksim binary at $bin (build it first)"; exit 2; }
command -v python3 >/dev/null || { echo "SKIPPED: python3 is not installed (the recipe's sender is Python)"; exit 0; }
scratch="$(mktemp -d)"
busy=()
cleanup() {
  for pid in "${busy[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT
for _ in 1 2; do
  ( while :; do :; done ) &
  busy+=("$!")
done

# The sender recipe (docs/guide.md, "Certifying a sender").
recipe() {
  timeout 120 "$bin" certify sender --listen 127.0.0.1:0 --time-scale 100 --budget 30s \
    --trigger 'exec python3 examples/senders/snapbill_sender.py --time-scale 100' >"$scratch/recipe.out" 2>/dev/null
}

# The guide's dispatch recipe: certify sender first, then dispatch pointed at the URL it prints.
dispatched() {
  local out="$scratch/certify.out"
  : >"$out"
  timeout 120 "$bin" certify sender --listen 127.0.0.1:0 --time-scale 100 --budget 10s >"$out" 2>/dev/null &
  local certify=$!
  local url=""
  for _ in $(seq 1 200); do
    url="$(head -n 1 "$out")"
    [ -n "$url" ] && break
    sleep 0.05
  done
  timeout 120 "$bin" dispatch examples/senders/six-events.toml --receiver "shop=$url" --time-scale 100 \
    >"$scratch/dispatch.out" 2>/dev/null || true
  wait "$certify"
}

count() {
  local name=$1 fn=$2 passed=0
  for n in $(seq 1 "$runs"); do
    if "$fn"; then
      passed=$((passed + 1))
    else
      echo "$name: run $n did not pass:"
      local file="$scratch/recipe.out"
      [ "$fn" = dispatched ] && file="$scratch/certify.out"
      grep -E "FAILED|note:|passed, " "$file" | sed 's/^/    /' || true
    fi
  done
  echo "$name: $passed of $runs runs passed under two busy loops"
  [ "$passed" = "$runs" ]
}

status=0
count "the guide's sender recipe (snapbill_sender.py, --time-scale 100)" recipe || status=1
count "certify sender against hooksim dispatch (--time-scale 100)" dispatched || status=1
exit "$status"
