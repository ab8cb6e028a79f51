#!/usr/bin/env python3
"""A receiver answering three senders' endpoint verifications as their documentation says, in
Python's standard library (none of the three publishes a verification library for it):

- Meta (Graph API, WhatsApp, Instagram): a GET with `hub.mode=subscribe`, `hub.verify_token`
  and `hub.challenge` is answered 200 with the challenge as the body when the verify token is
  ours, 403 otherwise;
- Zoom: a POST `endpoint.url_validation`, signed (`x-zm-signature: v0=<hex HMAC-SHA256 of
  v0:timestamp:body>`), is answered with `{"plainToken": p, "encryptedToken": hex(HMAC-SHA256(
  secret token, p))}`;
- CloudEvents webhooks: an OPTIONS with `WebHook-Request-Origin` is answered 200 with
  `WebHook-Allowed-Origin: <that origin>`, `WebHook-Allowed-Rate: *` and `Allow: POST`.

Any other POST gets a 200 (a 400 when it is not JSON). --secret is both Meta's verify token and
Zoom's secret token:

    python3 examples/receivers/providers/handshake_receiver.py --secret TOKEN [--defect D] [--port 0]
    hooksim certify receiver --url BASE/webhook --handshakes-only \\
        --handshake meta --handshake zoom --handshake cloudevents --handshake-secret TOKEN

It prints its base URL (http://127.0.0.1:PORT) on the first line of stdout.

Defects (negative controls of `certify receiver --handshake`), one case each:
- echoes-any-token: the Meta challenge is echoed whatever the verify token (fails handshake-meta);
- wrong-zoom-hash: encryptedToken is base64, not hex (fails handshake-zoom);
- no-allowed-origin: the OPTIONS gets a 200 without WebHook-Allowed-Origin (fails
  handshake-cloudevents);
- signature-middleware: a Zoom signature check in front of every request, whatever its method,
  refuses the unsigned GET and OPTIONS with 401 (fails handshake-meta and handshake-cloudevents;
  the signed Zoom validation passes).
"""

import argparse
import base64
import hashlib
import hmac
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

DEFECTS = ["echoes-any-token", "wrong-zoom-hash", "no-allowed-origin", "signature-middleware"]
SECRET = b""
DEFECT = None
BODY_BYTES_MAX = 4 * 1024 * 1024


def mac(message):
    return hmac.new(SECRET, message, hashlib.sha256)


def zoom_signed(headers, raw):
    timestamp = headers.get("x-zm-request-timestamp", "")
    expected = "v0=" + mac(b"v0:%s:%s" % (timestamp.encode(), raw)).hexdigest()
    return hmac.compare_digest(expected, headers.get("x-zm-signature", ""))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, code, body=b"", content_type="text/plain", headers=()):
        self.send_response(code)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, BODY_BYTES_MAX))

    def refused_by_middleware(self, raw):
        # The defect: one signature check for the whole app, in front of routing.
        if DEFECT == "signature-middleware" and not zoom_signed(self.headers, raw):
            self.answer(401, b"unsigned")
            return True
        return False

    def do_GET(self):
        if self.refused_by_middleware(b""):
            return
        query = parse_qs(urlsplit(self.path).query)
        first = lambda name: (query.get(name) or [""])[0]  # noqa: E731
        token_ok = hmac.compare_digest(first("hub.verify_token").encode(), SECRET)
        if first("hub.mode") == "subscribe" and (token_ok or DEFECT == "echoes-any-token"):
            self.answer(200, first("hub.challenge").encode())
        else:
            self.answer(403, b"verify token mismatch")

    def do_OPTIONS(self):
        if self.refused_by_middleware(b""):
            return
        origin = self.headers.get("WebHook-Request-Origin")
        headers = [("Allow", "POST, OPTIONS")]
        if origin and DEFECT != "no-allowed-origin":
            headers += [("WebHook-Allowed-Origin", origin), ("WebHook-Allowed-Rate", "*")]
        self.answer(200, headers=headers)

    def do_POST(self):
        raw = self.read_body()
        if self.refused_by_middleware(raw):
            return
        try:
            body = json.loads(raw)
        except ValueError:
            return self.answer(400, b"not JSON")
        if isinstance(body, dict) and body.get("event") == "endpoint.url_validation":
            if not zoom_signed(self.headers, raw):
                return self.answer(401, b"bad signature")
            plain = str((body.get("payload") or {}).get("plainToken", ""))
            digest = mac(plain.encode())
            encrypted = base64.b64encode(digest.digest()).decode() if DEFECT == "wrong-zoom-hash" else digest.hexdigest()
            answer = json.dumps({"plainToken": plain, "encryptedToken": encrypted}).encode()
            return self.answer(200, answer, "application/json")
        self.answer(200, b"ok")


def main():
    global SECRET, DEFECT
    parser = argparse.ArgumentParser(description="Answers Meta's, Zoom's and CloudEvents' endpoint verifications.")
    parser.add_argument("--secret", required=True, help="Meta's verify token and Zoom's secret token")
    parser.add_argument("--defect", choices=DEFECTS)
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    SECRET, DEFECT = args.secret.encode(), args.defect
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print("http://127.0.0.1:%d" % server.server_address[1], flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
