#!/usr/bin/env python3
"""What every provider receiver here shares: a receiver of one provider's own deliveries (what
`hooksim certify receiver --provider P` sends), written to hooksim's effects contract, with
defects on demand. Standard library only; each provider's script brings its verification (its
official library where one exists) and how to read its events, and calls `serve`.

It prints its base URL on the first line of stdout, then serves `POST /webhook` and
`GET /effects`. Correct: it verifies the raw body first (401 otherwise), answers the provider's
endpoint verification (Slack's `url_verification`) with its challenge, reads the event (400 when
it cannot), claims the provider's dedup id (Stripe's event `id`, Slack's `event_id`,
`webhook-id`, `X-GitHub-Delivery`, `X-Shopify-Event-Id`) under one lock before acting, and fulfils
an invoice whose event says it was paid, unless it has seen a newer event cancelling that invoice
(by the events' own times: a provider sends a snapshot taken when the event happened, so a late
`paid` still says `paid`; its time is what tells it is older than the cancellation). With
`--api-url URL` (the provider's API; `hooksim certify receiver --provider P --api-port N` serves a
simulated one at http://127.0.0.1:N) it follows the providers' advice before acting on a `paid`
event: it GETs the invoice as it is now and fulfils it only when it is paid now (a failed fetch
is answered 503, unclaimed, so the provider retries). Each act is one entry of the effects list, filed under
the dedup id (the contract reads it back as the delivery's uuid). Ids are kept for the process's
life: longer than any provider's redelivery window.

Defects:
  reserialises        verifies the signature over the body parsed and written again, not the
                      bytes received (fails signature-raw-bytes and large-body)
  short-dedup-window  forgets an id once it has seen an event 3 min newer than the id's, on the
                      events' own clock, as a stream processor's event-time window does: shorter
                      than every provider's redelivery window (Slack's is 6 min), longer than the
                      events of any one certification scenario are apart (fails
                      redelivery-across-retry-window)
  rejects-handshake   (Slack) answers the url_verification request 401, as a middleware that
                      only lets `event_callback` bodies through does (fails url-verification)
  trusts-snapshot     acts on the `paid` snapshot without asking the API for the invoice as it is
                      now (fails paid-carrying-cancelled: the late `paid` arrives before the
                      cancellation's event, which is all the event-time check can see)
"""

import json
import sys
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SHORT_WINDOW_S = 180


class Event:
    """What a receiver needs of one delivery: its dedup id, when it happened (unix seconds, the
    provider's own field), the invoice it says was paid (None: nothing to fulfil), and the invoice
    it says was cancelled (None: none)."""

    def __init__(self, dedup_id, at_s, paid_invoice, cancelled_invoice=None):
        self.dedup_id, self.at_s, self.paid_invoice = dedup_id, at_s, paid_invoice
        self.cancelled_invoice = cancelled_invoice


class Provider:
    """One provider: `verify(headers, raw) -> bool` over the bytes it is given, `read(headers,
    doc) -> Event` (raising ValueError, KeyError or TypeError when the body is not its event),
    and `challenge(doc)`: the handshake's challenge, when `doc` is one."""

    def verify(self, headers, raw):
        raise NotImplementedError

    def read(self, headers, doc):
        raise NotImplementedError

    def challenge(self, doc):
        return None

    def invoice_path(self, invoice):
        """The API path reading `invoice` as it is now; None: the provider has no API."""
        return None

    def paid_now(self, doc):
        """Whether the API's answer `doc` says the invoice is paid now."""
        raise NotImplementedError


API_TIMEOUT_S = 5


def fetch(api_url, path):
    """The API's JSON answer for `path`, or None for a 404 (no such invoice); raises OSError
    (a URLError, a timeout) when the API cannot be read."""
    try:
        with urllib.request.urlopen(api_url + path, timeout=API_TIMEOUT_S) as answer:
            return json.loads(answer.read(1 << 20))
    except urllib.error.HTTPError as e:
        if e.code == 404:
            return None
        raise OSError("the API answered %d" % e.code) from e


def reserialised(raw):
    """The body as a framework's JSON encoder writes it back: compact, keys in their order."""
    return json.dumps(json.loads(raw), separators=(",", ":")).encode()


def serve(provider, defect, port=0, api_url=None):
    lock = threading.Lock()
    effects = []
    claimed = {}  # dedup id -> the event's time
    newest = [None]  # the newest event time seen (the short window's clock)
    cancelled = {}  # invoice -> the time of the newest event cancelling it

    def claim(event):
        with lock:
            if defect == "short-dedup-window" and event.at_s is not None:
                newest[0] = max(newest[0] or event.at_s, event.at_s)
                for key, at in list(claimed.items()):
                    if at is not None and newest[0] - at > SHORT_WINDOW_S:
                        del claimed[key]
            if event.dedup_id in claimed:
                return
            claimed[event.dedup_id] = event.at_s
            if event.cancelled_invoice is not None:
                key = str(event.cancelled_invoice)
                cancelled[key] = max(cancelled.get(key, event.at_s or 0), event.at_s or 0)
            if event.paid_invoice is not None:
                since = cancelled.get(str(event.paid_invoice))
                if since is not None and event.at_s is not None and event.at_s < since:
                    return  # paid before a cancellation already seen: stale
                path = provider.invoice_path(event.paid_invoice)
                if api_url and path and defect != "trusts-snapshot":
                    try:
                        now = fetch(api_url, path)
                    except (OSError, ValueError):
                        del claimed[event.dedup_id]  # unclaimed: the provider's retry decides
                        raise
                    if now is None or not provider.paid_now(now):
                        return  # the snapshot says paid; the invoice, now, is not
                action = "fulfil invoice %s" % event.paid_invoice
                effects.append({"uuid": event.dedup_id, "action": action, "kind": "fulfil"})

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def answer(self, code, body=b""):
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            with lock:
                doc = json.dumps({"effects": effects}).encode()
            self.answer(200, doc)

        def do_POST(self):
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                signed = reserialised(raw) if defect == "reserialises" else raw
                ok = provider.verify(self.headers, signed)
            except (ValueError, TypeError):  # the defect's re-parse of a body that is not JSON
                ok = False
            if not ok:
                return self.answer(401)
            try:
                doc = json.loads(raw)
                challenge = provider.challenge(doc)
                if challenge is not None:
                    if defect == "rejects-handshake":
                        return self.answer(401)
                    return self.answer(200, json.dumps({"challenge": challenge}).encode())
                event = provider.read(self.headers, doc)
            except (ValueError, KeyError, TypeError, AttributeError):
                return self.answer(400)
            try:
                claim(event)
            except (OSError, ValueError):
                return self.answer(503)
            self.answer(200)

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    print("http://127.0.0.1:%d" % server.server_address[1], flush=True)
    server.serve_forever()


def flag(args, name, default=None):
    """The value after `name` in `args`, or `default`."""
    return args[args.index(name) + 1] if name in args else default


def main_for(provider_of_secret, usage):
    """Parses `--secret S [--defect D] [--port N] [--api-url URL]` and serves
    `provider_of_secret(S)`."""
    args = sys.argv[1:]
    secret = flag(args, "--secret")
    if secret is None:
        sys.exit(usage)
    port, api_url = int(flag(args, "--port", "0")), flag(args, "--api-url")
    serve(provider_of_secret(secret), flag(args, "--defect"), port, api_url and api_url.rstrip("/"))
