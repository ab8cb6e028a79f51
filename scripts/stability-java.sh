#!/usr/bin/env bash
# Stability of certification verdicts on the Java examples under load (two busy loops on both
# cores): the correct receiver (examples/receivers/java/SnapbillReceiver.java, signatures on) and
# the correct served sender (examples/senders/java/SnapbillSender.java --serve) must each get the
# same passing verdict in RUNS of RUNS runs (20 by default), and each receiver defect the same
# verdict (the same failed cases) in DEFECT_RUNS of DEFECT_RUNS runs (5 by default).
#
#   scripts/stability-java.sh [RUNS] [DEFECT_RUNS]   (HOOKSIM=path/to/hooksim; default target/release/hooksim)
#
# Each receiver run uses its own seed against one receiver process per defect. Needs java (17 or
# later), Debian's Gson (/usr/share/java/gson.jar: apt-get install libgoogle-gson-java) and curl
# (the sender's trigger); SKIPPED, saying so, without them. Not run by CI (its time: about
# 8 minutes). Prints one line per program and exits 1 when any verdict differed.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-20}"
DEFECT_RUNS="${2:-5}"
HOOKSIM="${HOOKSIM:-target/release/hooksim}"
GSON=/usr/share/java/gson.jar
WHSEC="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
[ -x "$HOOKSIM" ] || { echo "stability-java: no $HOOKSIM (cargo build --release, or set HOOKSIM)" >&2; exit 2; }
for tool in java curl; do
  command -v "$tool" >/dev/null || { echo "stability-java: SKIPPED, no $tool"; exit 0; }
done
[ -f "$GSON" ] || { echo "stability-java: SKIPPED, no $GSON (apt-get install libgoogle-gson-java)"; exit 0; }

scratch="$(mktemp -d)"
pids=()
cleanup() {
  # The busy loops, and the Java programs (started in command substitutions, so listed in a file).
  for pid in "${pids[@]}" $(cat "$scratch/java.pids" 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT

# The load: two busy loops, one per core.
for _ in 1 2; do
  (while :; do :; done) &
  pids+=("$!")
done

# Starts `java -cp GSON PROGRAM ARGS...` in the background; prints the first line it writes.
serve() {
  local out="$scratch/serve.$RANDOM"
  java -cp "$GSON" "$@" >"$out" 2>/dev/null &
  echo "$!" >>"$scratch/java.pids"
  for _ in $(seq 300); do [ -s "$out" ] && break; sleep 0.1; done
  head -n1 "$out"
}

# One receiver run's verdict: the exit status and the failed cases, in table order.
receiver_verdict() {
  local base=$1 seed=$2
  shift 2
  set +e
  "$HOOKSIM" certify receiver --url "$base/webhook" --effects-url "$base/effects" --seed "$seed" \
    --effects-quiet-ms 300 --large-body-bytes 262144 "$@" >"$scratch/out" 2>&1
  local code=$?
  set -e
  echo "exit $code; failed: $(grep -oE '^[a-z0-9-]+ +FAILED' "$scratch/out" | awk '{print $1}' | tr '\n' ' ')"
}

status=0
# NAME RUNS EXPECT-PASS RECEIVER-ARGS -- CERTIFY-ARGS
receiver() {
  local name=$1 runs=$2 must_pass=$3
  shift 3
  local rargs=() cargs=()
  while [ "$1" != -- ]; do rargs+=("$1"); shift; done
  shift
  cargs=("$@")
  local base
  base="$(serve examples/receivers/java/SnapbillReceiver.java --port 0 "${rargs[@]}")"
  [ -n "$base" ] || { echo "stability-java: the receiver ($name) did not start" >&2; exit 2; }
  local first="" same=0 verdict
  for run in $(seq "$runs"); do
    verdict="$(receiver_verdict "$base" "$run" "${cargs[@]}")"
    [ -n "$first" ] || first="$verdict"
    if [ "$verdict" = "$first" ] && { [ "$must_pass" = no ] || [ "$verdict" = "exit 0; failed: " ]; }; then
      same=$((same + 1))
    else
      echo "  $name: run $run (seed $run) differs: $verdict" >&2
    fi
  done
  echo "receiver $name: $same of $runs runs gave the same verdict ($first)"
  [ "$same" = "$runs" ] || status=1
}

receiver correct "$RUNS" yes --secret "$WHSEC" -- --secret "$WHSEC"
receiver reparses "$DEFECT_RUNS" no --secret "$WHSEC" --defect reparses -- --secret "$WHSEC"
for defect in check-then-act dedup-in-handler trusts-snapshot catches-syntax-only; do
  receiver "$defect" "$DEFECT_RUNS" no --defect "$defect" --
done
receiver chunked-unclosed "$DEFECT_RUNS" no --defect chunked-unclosed -- --timeout-ms 1000
receiver chunked-empty "$DEFECT_RUNS" yes --defect chunked-empty --

# The served sender, triggered by a curl to its API (the recipe of docs/certify.md).
sender="$(serve examples/senders/java/SnapbillSender.java --serve --time-scale 100)"
[ -n "$sender" ] || { echo "stability-java: the sender did not start" >&2; exit 2; }
trigger="curl -sf -d \"{\\\"event\\\": \$HOOKSIM_EVENT, \\\"url\\\": \\\"\$HOOKSIM_URL\\\"}\" $sender/events"
passed=0
for run in $(seq "$RUNS"); do
  if timeout 120 "$HOOKSIM" certify sender --listen 127.0.0.1:0 --time-scale 100 --budget 30s \
    --trigger "$trigger" >"$scratch/sender.out" 2>&1; then
    passed=$((passed + 1))
  else
    echo "  sender: run $run did not pass:" >&2
    grep -E "FAILED|note:|passed, " "$scratch/sender.out" | sed 's/^/    /' >&2 || true
  fi
done
echo "sender (served, --time-scale 100): $passed of $RUNS runs passed"
[ "$passed" = "$RUNS" ] || status=1
exit "$status"
