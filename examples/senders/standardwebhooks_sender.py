#!/usr/bin/env python3
"""A Standard Webhooks sender built on the official `standardwebhooks` library (PyPI) and `httpx`,
for `hooksim certify sender --provider standard-webhooks --secret whsec_...` (the specification's
`{type, timestamp, data}`, the id in `webhook-id`, its schedule).

It delivers one event (`--event N`, or HOOKSIM_EVENT from `--trigger`) to `--url`: one message id
per event, signed by `standardwebhooks.Webhook.sign` over the exact bytes sent with a fresh
timestamp on every attempt; retried on the Standard Webhooks schedule (5 s, 5 min, 30 min, ...;
10 attempts) after any non-2xx answer, timeout or connection error; redirects not followed; a 410
ends it (the endpoint is disabled); Retry-After on a 429/503 is honoured (at most 2 h past the
backoff). `--time-scale N` divides the delays and the 15 s timeout by N. `--defect
frozen-timestamp` signs every retry with the first attempt's timestamp.

  pip install standardwebhooks httpx
  hooksim certify sender --listen 127.0.0.1:0 --provider standard-webhooks --secret whsec_... \\
    --time-scale 100 \\
    --trigger 'exec python3 examples/senders/standardwebhooks_sender.py --secret whsec_... --time-scale 100'
"""

import argparse, datetime, json, os, sys, time, uuid

import httpx
from standardwebhooks.webhooks import Webhook

DELAYS_S = [5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400]
TIMEOUT_S = 15
ATTEMPTS_MAX = 10
RETRY_AFTER_PAST_BACKOFF_MAX_S = 2 * 3600


def retry_after_s(response):
    value = response.headers.get("retry-after", "").strip()
    return int(value) if value.isdigit() else None


def deliver(url, event, webhook, scale, defect, deadline):
    msg_id = "msg_" + uuid.uuid4().hex
    first = datetime.datetime.now(tz=datetime.timezone.utc)
    # The specification's envelope: `timestamp` is when the event happened, kept by every retry.
    occurred = first.strftime("%Y-%m-%dT%H:%M:%SZ")
    data = {"id": 1000 + event, "number": "INV-%d" % event}
    body = json.dumps({"type": "invoice.created", "timestamp": occurred, "data": data}).encode()
    with httpx.Client(follow_redirects=False, timeout=TIMEOUT_S / scale, trust_env=False) as client:
        for failures in range(ATTEMPTS_MAX):
            if time.monotonic() >= deadline:
                return 1
            now = first if defect == "frozen-timestamp" else datetime.datetime.now(tz=datetime.timezone.utc)
            headers = {
                "content-type": "application/json",
                "webhook-id": msg_id,
                "webhook-timestamp": str(int(now.timestamp())),
                "webhook-signature": webhook.sign(msg_id, now, body),
            }
            wait_floor = None
            try:
                response = client.post(url, content=body, headers=headers)
                if 200 <= response.status_code < 300:
                    return 0
                if response.status_code == 410:
                    return 0  # the endpoint is disabled: nothing more is sent to it
                if response.status_code in (429, 503):
                    wait_floor = retry_after_s(response)
            except httpx.HTTPError:
                pass  # a timeout, a reset, a refused connection: a failed attempt
            backoff = DELAYS_S[min(failures, len(DELAYS_S) - 1)] / scale
            wait = backoff
            if wait_floor is not None:
                wait = max(backoff, min(wait_floor, backoff + RETRY_AFTER_PAST_BACKOFF_MAX_S / scale))
            time.sleep(wait)
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default=os.environ.get("HOOKSIM_URL"))
    p.add_argument("--event", type=int, default=int(os.environ.get("HOOKSIM_EVENT", "1")))
    p.add_argument("--secret", required=True, help="the endpoint's whsec_ secret")
    p.add_argument("--time-scale", type=float, default=1.0)
    p.add_argument("--defect", choices=["frozen-timestamp"])
    p.add_argument("--give-up-after", type=float, default=120.0, help="wall seconds, a bound on this process")
    a = p.parse_args()
    if not a.url:
        p.error("--url (or HOOKSIM_URL) is required")
    return deliver(a.url, a.event, Webhook(a.secret), a.time_scale, a.defect, time.monotonic() + a.give_up_after)


if __name__ == "__main__":
    sys.exit(main())
