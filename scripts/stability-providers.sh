#!/usr/bin/env bash
# Stability of `hooksim certify receiver --provider P` under load: each provider's correct receiver
# (examples/receivers/providers/, built on the provider's official library) must get the same
# verdict, certified, in RUNS of RUNS runs (20 by default) while two busy loops occupy both cores.
#
#   scripts/stability-providers.sh [RUNS] [PROVIDER...]   (HOOKSIM=path/to/hooksim; default target/release/hooksim)
#
# PROVIDER is stripe, standard-webhooks, slack, shopify or github (default: all five). Each run
# uses its own seed against one receiver process per provider, which is pointed at the simulated
# provider API that the run serves on a fixed port (Standard Webhooks has none). A provider whose
# library is missing is SKIPPED, and says so. Prints one line per provider and exits 1 when any
# run's verdict was not certified.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${1:-20}"
shift || true
PROVIDERS_WANTED=("$@")
[ "${#PROVIDERS_WANTED[@]}" -gt 0 ] || PROVIDERS_WANTED=(stripe standard-webhooks slack shopify github)
HOOKSIM="${HOOKSIM:-target/release/hooksim}"
HERE=examples/receivers/providers
WHSEC="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
[ -x "$HOOKSIM" ] || { echo "stability-providers: no $HOOKSIM (cargo build --release, or set HOOKSIM)" >&2; exit 2; }

scratch="$(mktemp -d)"
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT

# A free loopback port for the simulated provider API.
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# The receiver of one provider: "SECRET|PROGRAM ARGS..."; empty when its library is missing.
receiver_of() {
  case "$1" in
    stripe) python3 -c 'import stripe' 2>/dev/null && echo "$WHSEC|python3 $HERE/stripe_receiver.py --secret $WHSEC" ;;
    standard-webhooks) python3 -c 'import standardwebhooks' 2>/dev/null \
      && echo "$WHSEC|python3 $HERE/standardwebhooks_receiver.py --secret $WHSEC" ;;
    slack) python3 -c 'import slack_sdk' 2>/dev/null \
      && echo "8f742231b10e8888abcd99yyyzzz85a5|python3 $HERE/slack_receiver.py --provider --secret 8f742231b10e8888abcd99yyyzzz85a5" ;;
    shopify) echo "my_client_secret|python3 $HERE/shopify_receiver.py --provider --secret my_client_secret" ;;
    github) [ -f "$HERE/node_modules/@octokit/webhooks-methods/package.json" ] && command -v node >/dev/null \
      && echo "gh_secret|node $HERE/github_receiver.mjs --secret gh_secret" ;;
    *) echo "stability-providers: unknown provider $1" >&2; exit 2 ;;
  esac
}

# The load: two busy loops, one per core.
for _ in 1 2; do
  (while :; do :; done) &
  pids+=("$!")
done

status=0
for provider in "${PROVIDERS_WANTED[@]}"; do
  spec="$(receiver_of "$provider" || true)"
  if [ -z "$spec" ]; then
    echo "stability-providers: $provider SKIPPED (its library is not installed)"
    continue
  fi
  secret="${spec%%|*}"
  command="${spec#*|}"
  api=()
  receiver_api=()
  if [ "$provider" != standard-webhooks ]; then
    port="$(free_port)"
    api=(--api-port "$port")
    receiver_api=(--api-url "http://127.0.0.1:$port")
  fi
  # shellcheck disable=SC2086 # the command is words on purpose
  $command "${receiver_api[@]}" >"$scratch/$provider.url" 2>/dev/null &
  pids+=("$!")
  for _ in $(seq 50); do [ -s "$scratch/$provider.url" ] && break; sleep 0.1; done
  base="$(head -n1 "$scratch/$provider.url")"
  [ -n "$base" ] || { echo "stability-providers: the $provider receiver did not start" >&2; exit 2; }
  certified=0
  verdicts="$scratch/$provider.verdicts"
  : >"$verdicts"
  for run in $(seq "$RUNS"); do
    code=0
    out="$("$HOOKSIM" certify receiver --url "$base/webhook" --effects-url "$base/effects" --provider "$provider" \
      --secret "$secret" "${api[@]}" --effects-quiet-ms 300 --seed "$run" 2>&1)" || code=$?
    summary="$(printf '%s\n' "$out" | grep -E '[0-9]+ passed, [0-9]+ failed' | tail -n1)"
    echo "exit $code: $summary" >>"$verdicts"
    [ "$code" = 0 ] && certified=$((certified + 1))
  done
  echo "stability-providers: $provider certified in $certified of $RUNS runs under two busy loops ($(sort "$verdicts" | uniq -c | sed 's/^ *//' | paste -sd ';' -))"
  [ "$certified" = "$RUNS" ] || status=1
done
exit "$status"
