#!/usr/bin/env python3
"""A SnapBill webhook receiver written to hooksim's effects contract, with defects on demand.

Standard library only. It prints its base URL on the first line of stdout, then serves
`POST /webhook` and `GET /effects` until killed:

    python3 examples/receivers/contract_receiver.py [--port 0] [--defect D] [--tls CERT KEY]
        [--secret whsec_...]   (verify Standard Webhooks signatures: 401 and no act otherwise)
    hooksim certify receiver --url BASE/webhook --effects-url BASE/effects

Without --defect it is correct: it claims each delivery uuid under one lock before acting, decides
on the invoice in the body (fulfils a `paid` event only while the invoice is paid, and never an
invoice it saw cancelled by a newer event), answers 2xx to every readable delivery and 400 to
what it cannot read. Each act is one entry of the effects list, with a machine-readable `kind`.

Defects (each one is caught by a certification case, or, for the last three, must not be):
  body-hash        deduplicates on a hash of the body instead of the uuid
  per-connection   remembers uuids per connection (keep-alive), not per receiver
  racy             checks the uuid, then records it --race-ms later (default 1 ms: check-then-act race)
  never-acts       answers 2xx and records nothing
  last-write-wins  acts on the state in the body, with no memory of newer events
  queue            correct, but answers at once and acts from a queue 200 ms later
  other-work       correct, and also records "marked invoice cancelled" (kind other) under a
                   stale paid delivery
  other-work-untyped   the same record ("marked invoice 7 cancelled, no fulfilment") without
                   `kind`: its words are never read, so the stale-payload cases are "not judged"
  reserialises     (with --secret) verifies the signature over the body parsed and written
                   again, not over the bytes received (fails signature-raw-bytes and large-body)
  not-http-on-duplicate   answers a duplicate delivery with bytes that are not HTTP
  reset-on-duplicate      resets the connection of a duplicate delivery (no answer)
  acts-twice       records every act twice (two fulfilments per delivery, the control's too)
  queue-1s         correct, but acts from a queue 1 s after answering (passes the default window)
  queue-3s         the same 3 s after answering (later than the default 2 s window)
  redirect-on-malformed   answers 302 to a body it cannot read (a sender retries a 3xx)
  never-answers    accepts every delivery's connection and never answers it
"""

import argparse
import base64
import hashlib
import hmac
import json
import queue
import socket
import struct
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOCK = threading.Lock()
EFFECTS = []          # the effects list: one entry per act
CLAIMED = set()       # uuids (or body hashes) acted on
NEWEST = {}           # invoice id -> (event id, state) of the newest event seen
WORK = queue.Queue()  # the `queue` defect's deferred work
DEFECT = None
SECRET = None         # Standard Webhooks HMAC key, when --secret is given
TOLERANCE_S = 300
RACE_S = 0.001        # the `racy` defect's window between check and act (--race-ms)


def signature_ok(headers, raw):
    """Standard Webhooks: v1,<base64 HMAC-SHA256 of id.timestamp.body>, any of several matching."""
    msg_id, ts, sigs = headers.get("webhook-id"), headers.get("webhook-timestamp"), headers.get("webhook-signature")
    if not (msg_id and ts and sigs) or not ts.isdigit() or abs(time.time() - int(ts)) > TOLERANCE_S:
        return False
    body = raw
    if DEFECT == "reserialises":
        body = json.dumps(json.loads(raw), separators=(",", ":")).encode()
    expected = base64.b64encode(hmac.new(SECRET, b"%s.%s.%s" % (msg_id.encode(), ts.encode(), body), hashlib.sha256).digest())
    return any(
        part.startswith("v1,") and hmac.compare_digest(part[3:].encode(), expected) for part in sigs.split(" ")
    )


def decide(envelope):
    """The act a delivery calls for, or None: fulfil a paid invoice that no newer event cancelled."""
    body = envelope["body"]
    invoice = body.get("invoice") or {}
    if body.get("path") != "/invoice/update/state" or not isinstance(invoice, dict):
        return None
    inv_id, event_id, state = invoice.get("id"), body.get("id"), invoice.get("state")
    if DEFECT != "last-write-wins":
        newest = NEWEST.get(inv_id)
        if newest is not None and isinstance(event_id, int) and newest[0] > event_id:
            state = newest[1]  # an older event delivered late: the newer one's state holds
        if newest is None or (isinstance(event_id, int) and event_id > newest[0]):
            NEWEST[inv_id] = (event_id, state)
    if body.get("details") == "paid" and state == "paid":
        return ("fulfil", "fulfil invoice %s" % inv_id)
    if body.get("details") == "paid" and DEFECT in ("other-work", "other-work-untyped"):
        return ("other", "marked invoice %s cancelled, no fulfilment" % inv_id)
    return None


def record(envelope, act):
    kind, action = act
    entry = {"uuid": envelope["uuid"], "event": envelope["body"].get("id"), "action": action}
    if DEFECT != "other-work-untyped":
        entry["kind"] = kind
    EFFECTS.append(entry)
    if DEFECT == "acts-twice":
        EFFECTS.append(dict(entry))


def handle(envelope, raw, connection_seen):
    """Acts on the delivery when it calls for it; returns False for a duplicate (already claimed)."""
    if DEFECT == "never-acts":
        return True
    key = hashlib.sha256(raw).hexdigest() if DEFECT == "body-hash" else envelope["uuid"]
    if DEFECT == "racy":
        if key in CLAIMED:
            return False
        time.sleep(RACE_S)  # the window between the check and the act
        CLAIMED.add(key)
        with LOCK:
            act = decide(envelope)
            if act:
                record(envelope, act)
        return True
    with LOCK:
        seen = connection_seen if DEFECT == "per-connection" else CLAIMED
        if key in seen:
            return False
        seen.add(key)
        act = decide(envelope)
        if act:
            record(envelope, act)
    return True


QUEUE_DELAY_S = {"queue": 0.2, "queue-1s": 1.0, "queue-3s": 3.0}


def worker():
    # One worker, in queue order: each job is done QUEUE_DELAY_S after it was queued. (A timer
    # per job could run two jobs queued close together out of order, which made this correct
    # receiver fail now and then.)
    delay = QUEUE_DELAY_S[DEFECT]
    while True:
        queued_at, envelope, raw = WORK.get()
        time.sleep(max(0.0, queued_at + delay - time.monotonic()))
        handle(envelope, raw, set())


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the per-connection defect needs connections

    def setup(self):
        super().setup()
        self.connection_seen = set()

    def log_message(self, *args):
        pass

    def answer(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def wire_failure(self):
        """The defects that break the connection instead of answering: not HTTP, or a reset."""
        self.close_connection = True
        if DEFECT == "not-http-on-duplicate":
            self.wfile.write(b"DUPLICATE IGNORED\n")
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        else:  # reset-on-duplicate: SO_LINGER 0 makes close() send a RST
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if DEFECT == "never-answers":
            time.sleep(3600)  # the connection stays open, unanswered
            return
        try:
            if SECRET is not None and not signature_ok(self.headers, raw):
                return self.answer(401)
        except ValueError:
            return self.answer(401)
        try:
            envelope = json.loads(raw)
            if not isinstance(envelope, dict) or not isinstance(envelope.get("body"), dict):
                raise ValueError("not an envelope")
            str(envelope["uuid"])
        except (ValueError, KeyError):
            if DEFECT == "redirect-on-malformed":
                self.send_response(302)
                self.send_header("Location", "/webhook/")
                self.send_header("Content-Length", "0")
                return self.end_headers()
            return self.answer(400)
        if DEFECT in QUEUE_DELAY_S:
            WORK.put((time.monotonic(), envelope, raw))
        elif not handle(envelope, raw, self.connection_seen) and DEFECT in ("not-http-on-duplicate", "reset-on-duplicate"):
            return self.wire_failure()
        self.answer(200)

    def finish(self):
        try:
            super().finish()
        except OSError:
            pass  # the wire-failure defects closed the socket under the handler

    def do_GET(self):
        with LOCK:
            doc = json.dumps({"effects": EFFECTS}).encode()
        self.answer(200, doc)


def main():
    global DEFECT, SECRET, RACE_S
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--defect", default=None)
    parser.add_argument("--secret", default=None)
    parser.add_argument("--race-ms", type=float, default=1.0, help="the racy defect's window, in ms")
    parser.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"), help="serve https with this PEM pair")
    args = parser.parse_args()
    DEFECT = args.defect
    RACE_S = args.race_ms / 1000
    if args.secret:
        SECRET = base64.b64decode(args.secret.removeprefix("whsec_"))
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    scheme = "http"
    if args.tls:
        import ssl
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(*args.tls)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    if DEFECT in QUEUE_DELAY_S:
        threading.Thread(target=worker, daemon=True).start()
    print("%s://127.0.0.1:%d" % (scheme, server.server_address[1]), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
