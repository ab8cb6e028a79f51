#!/usr/bin/env bash
# Stability of `hooksim certify receiver` under load: a correct receiver
# (examples/receivers/contract_receiver.py, signatures on) must get the same verdict, every case
# passed, in RUNS of RUNS runs (20 by default) while two busy loops occupy both cores.
#
#   scripts/stability-receiver.sh [RUNS]        (HOOKSIM=path/to/hooksim; default target/release/hooksim)
#
# Each run uses its own seed (its own uuids and ids), against one receiver process. The effects
# quiet window is shortened to 300 ms: this receiver records before it answers, so the window
# only costs time here (the queue receivers' windows are tested in tests/it/certify_receivers.rs).
# Prints the count and exits 1 when any run's verdict differs. CI runs it from .ci/run.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-20}"
HOOKSIM="${HOOKSIM:-target/release/hooksim}"
SECRET="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
[ -x "$HOOKSIM" ] || { echo "stability-receiver: no $HOOKSIM (cargo build --release, or set HOOKSIM)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "stability-receiver: SKIPPED, no python3"; exit 0; }

scratch="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT

# The load: two busy loops, one per core.
for _ in 1 2; do
  (while :; do :; done) &
  pids+=("$!")
done

python3 examples/receivers/contract_receiver.py --secret "$SECRET" >"$scratch/url" 2>/dev/null &
pids+=("$!")
for _ in $(seq 50); do [ -s "$scratch/url" ] && break; sleep 0.1; done
base="$(head -n1 "$scratch/url")"
[ -n "$base" ] || { echo "stability-receiver: the receiver did not start" >&2; exit 2; }

same=0
first=""
for run in $(seq "$RUNS"); do
  set +e
  "$HOOKSIM" certify receiver --url "$base/webhook" --effects-url "$base/effects" --secret "$SECRET" \
    --seed "$run" --effects-quiet-ms 300 --large-body-bytes 262144 >"$scratch/out" 2>&1
  code=$?
  set -e
  verdict="exit $code: $(grep -E '^[0-9]+ passed, ' "$scratch/out" || echo 'no summary')"
  [ -n "$first" ] || first="$verdict"
  if [ "$verdict" = "$first" ] && [ "$code" = 0 ]; then
    same=$((same + 1))
  else
    echo "run $run (seed $run) differs: $verdict" >&2
    grep -E 'FAILED|not verified|NOT RUN' "$scratch/out" >&2 || true
  fi
done
echo "stability-receiver: $same of $RUNS runs gave the correct receiver the same verdict ($first) under two busy loops"
[ "$same" = "$RUNS" ]
