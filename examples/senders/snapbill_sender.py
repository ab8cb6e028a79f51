#!/usr/bin/env python3
"""A small SnapBill-style webhook sender (Python stdlib only), for `hooksim certify sender`.

It delivers one event (`--event N`, or HOOKSIM_EVENT from `--trigger`) to `--url` at least once:
the same delivery uuid on every attempt, retried on the profile's schedule after any non-2xx
answer, timeout, reset or refused connection, redirects never followed; where the profile says
so, a 410 stops it and a 429/503 Retry-After is honoured (capped at 2 h past the backoff).

`--time-scale N` divides the profile's delays and timeout by N, as `hooksim certify sender
--time-scale N` expects (Retry-After stays in real seconds). `--defect D` makes it wrong in one
way, to show the certification catches it:

  no-retry            gives up after the first failed attempt
  new-id-per-retry    a fresh uuid on every attempt
  follow-redirects    re-POSTs to a 3xx's Location at once
  ignore-retry-after  never waits for Retry-After
  too-fast            retries after a tenth of the profile's delay
  late                retries after three times the profile's delay
  frozen-timestamp    signs every retry with the first attempt's timestamp (with --secret)
  resend-after-2xx    sends the delivery once more after its 2xx (success recorded too late)
  burst               event 6 also flushes a backlog of 20 other events at once, no in-flight cap
  no-id               sends no delivery id (no `uuid` in the body, no `webhook-id` header)
  huge-body           pads every body past 4 MiB (the endpoint refuses it unread)

Usage (one process per event; `exec` so that hooksim can stop it):
  hooksim certify sender --listen 127.0.0.1:0 --time-scale 100 --budget 30s \
    --trigger 'exec python3 examples/senders/snapbill_sender.py --time-scale 100'
"""

import argparse, base64, hashlib, hmac, json, os, random, sys, threading, time, urllib.error, urllib.request, uuid

# name: (delays after the 1st, 2nd, ... failure in seconds (the last repeats), timeout s,
#        jitter %, honours Retry-After, disables on 410, attempts max)
PROFILES = {
    "snapbill": ([10, 60, 300, 900, 1800], 30, 0, False, False, None),
    "standard-webhooks": ([5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400], 15, 0, True, True, 10),
    "svix": ([5, 300, 1800, 7200, 18000, 36000, 36000], 15, 20, True, True, 8),
}
RETRY_AFTER_PAST_BACKOFF_MAX_S = 2 * 3600
DEFECTS = ["no-retry", "new-id-per-retry", "follow-redirects", "ignore-retry-after", "too-fast", "late",
           "frozen-timestamp", "resend-after-2xx", "burst", "no-id", "huge-body"]
BACKLOG = 20


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # a 3xx comes back as an HTTPError: a failed attempt


OPENER = urllib.request.build_opener(NoRedirect)


def envelope(delivery, event, defect=None):
    invoice = {"id": event, "number": "INV-%d" % event, "client_id": 1, "total_cents": 1000 * event, "state": "unpaid"}
    body = {"id": 1000 + event, "path": "/invoice/create", "details": {"number": invoice["number"]}, "invoice": invoice}
    if defect == "huge-body":
        invoice["notes"] = " " * (4 * 1024 * 1024 + 1)
    if defect == "no-id":
        return json.dumps({"body": body}).encode()
    return json.dumps({"uuid": delivery, "body": body}).encode()


def signed_headers(secret, delivery, body, ts=None):
    if not secret:
        return {}
    key = base64.b64decode(secret[len("whsec_"):] if secret.startswith("whsec_") else secret)
    ts = str(ts if ts is not None else int(time.time()))
    mac = hmac.new(key, b"%s.%s.%s" % (delivery.encode(), ts.encode(), body), hashlib.sha256).digest()
    return {"webhook-id": delivery, "webhook-timestamp": ts, "webhook-signature": "v1," + base64.b64encode(mac).decode()}


def without_id(headers):
    return {k: v for k, v in headers.items() if k != "webhook-id"}


def post(url, body, headers, timeout_s):
    """(status or None for no answer, Retry-After seconds or None, Location or None)."""
    req = urllib.request.Request(url, data=body, method="POST", headers={"Content-Type": "application/json", **headers})
    try:
        with OPENER.open(req, timeout=timeout_s) as resp:
            return resp.status, None, None
    except urllib.error.HTTPError as e:
        retry_after = e.headers.get("Retry-After")
        seconds = int(retry_after) if retry_after and retry_after.strip().isdigit() else None
        return e.code, seconds, e.headers.get("Location")
    except (OSError, ValueError):  # timeout, reset, refused, a broken answer
        return None, None, None


def deliver(url, event, profile, scale, secret, defect, deadline):
    delays, timeout_s, jitter, honours, gone_disables, attempts_max = PROFILES[profile]
    delivery = str(uuid.uuid4())
    first_ts = int(time.time())  # what a frozen-timestamp sender signs every attempt with
    failures = 0
    while time.monotonic() < deadline:
        if defect == "new-id-per-retry":
            delivery = str(uuid.uuid4())
        body = envelope(delivery, event, defect)
        ts = first_ts if defect == "frozen-timestamp" else None
        headers = signed_headers(secret, delivery, body, ts)
        if defect == "no-id":
            headers = without_id(headers)
        status, retry_after, location = post(url, body, headers, timeout_s / scale)
        if defect == "follow-redirects" and status in (301, 302, 303, 307, 308) and location:
            status, retry_after, location = post(location, body, headers, timeout_s / scale)
        if status is not None and 200 <= status < 300:
            if defect == "resend-after-2xx":
                post(url, body, signed_headers(secret, delivery, body), timeout_s / scale)
            return 0
        failures += 1
        if status == 410 and gone_disables:
            return 0  # the profile disables the endpoint: nothing more is sent to it
        if defect == "no-retry" or (attempts_max and failures >= attempts_max):
            return 0
        backoff = delays[min(failures, len(delays)) - 1]
        backoff *= 1 + random.uniform(-jitter, jitter) / 100
        backoff /= scale
        if defect == "too-fast":
            backoff /= 10
        if defect == "late":
            backoff *= 3
        wait = backoff
        if honours and status in (429, 503) and retry_after is not None and defect != "ignore-retry-after":
            wait = max(backoff, min(retry_after, backoff + RETRY_AFTER_PAST_BACKOFF_MAX_S / scale))
        time.sleep(wait)
    return 1


def backlog(url, event, profile, scale, secret, deadline):
    """A backlog of other events flushed at once, each in its own thread: no cap on requests in flight."""
    threads = [threading.Thread(target=deliver, args=(url, 100 + n, profile, scale, secret, None, deadline))
               for n in range(BACKLOG)]
    for t in threads:
        t.start()
    code = deliver(url, event, profile, scale, secret, None, deadline)
    for t in threads:
        t.join()
    return code


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--url", default=os.environ.get("HOOKSIM_URL"))
    p.add_argument("--event", type=int, default=int(os.environ.get("HOOKSIM_EVENT", "1")))
    p.add_argument("--profile", choices=sorted(PROFILES), default="snapbill")
    p.add_argument("--time-scale", type=float, default=1.0)
    p.add_argument("--secret", help="sign as Standard Webhooks with this whsec_ secret")
    p.add_argument("--defect", choices=DEFECTS)
    p.add_argument("--give-up-after", type=float, default=120.0, help="wall seconds, a bound on this process")
    a = p.parse_args()
    if not a.url:
        p.error("--url (or HOOKSIM_URL) is required")
    deadline = time.monotonic() + a.give_up_after
    if a.defect == "burst" and a.event == 6:
        return backlog(a.url, a.event, a.profile, a.time_scale, a.secret, deadline)
    return deliver(a.url, a.event, a.profile, a.time_scale, a.secret, a.defect, deadline)


if __name__ == "__main__":
    sys.exit(main())
