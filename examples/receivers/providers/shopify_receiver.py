#!/usr/bin/env python3
"""The contract receiver (../contract_receiver.py) verifying Shopify webhooks as Shopify's
documentation shows (https://shopify.dev/docs/apps/build/webhooks/subscribe/https, "Verify the
webhook"): base64 of the HMAC-SHA256 of the raw body under the app's client secret, compared with
`X-Shopify-Hmac-Sha256` by `hmac.compare_digest`. Shopify publishes no Python library for this; the
standard library is all it takes. Shopify signs no timestamp, so nothing here refuses a replay:
deduplication does (contract_receiver claims each delivery once).

    python3 examples/receivers/providers/shopify_receiver.py --secret CLIENT_SECRET [--defect reserialises]
    hooksim certify receiver --url BASE/webhook --effects-url BASE/effects --secret CLIENT_SECRET --scheme shopify

Everything else (dedup, stale payloads, the effects list) is contract_receiver.py's, unchanged: it
plays SnapBill's envelope, signed as Shopify signs, not Shopify's own topics.

With --provider it receives Shopify's own deliveries instead (an Order for `orders/paid`, the
`X-Shopify-*` headers): it deduplicates on `X-Shopify-Event-Id`, as Shopify's documentation
advises, and fulfils the order of an `orders/paid` topic (provider_receiver.py has the rest and the
defects: reserialises, short-dedup-window, trusts-snapshot):

    python3 examples/receivers/providers/shopify_receiver.py --provider --secret CLIENT_SECRET [--defect D] [--api-url URL]
    hooksim certify receiver --provider shopify --url BASE/webhook --effects-url BASE/effects --secret CLIENT_SECRET

With --api-url http://127.0.0.1:N (and `certify receiver --api-port N`, the simulated API) it
reads the invoice as it is now before fulfilling a `paid` snapshot (the order).

--defect reserialises is the mistake Shopify's documentation warns about (verify the raw body): the
body is parsed and written again (json.dumps(json.loads(body))) before the HMAC is computed, so it
is computed over other bytes. Certification fails it on signature-raw-bytes and large-body.
"""

import base64
import hashlib
import hmac
import json
import os
import sys
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import contract_receiver as base  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import provider_receiver  # noqa: E402

CLIENT_SECRET = None


def verify_webhook(data, hmac_header):
    """Shopify's documented check."""
    digest = hmac.new(CLIENT_SECRET.encode("utf-8"), data, hashlib.sha256).digest()
    computed_hmac = base64.b64encode(digest)
    return hmac.compare_digest(computed_hmac, hmac_header.encode("utf-8"))


def shopify_verify(headers, raw):
    header = headers.get("X-Shopify-Hmac-Sha256")
    if header is None:
        return False
    try:  # a body that is not JSON cannot be re-serialised: refused like a bad signature
        body = raw
        if base.DEFECT == "reserialises":
            # Compact, as a framework's JSON encoder writes it: only bytes written otherwise differ.
            body = json.dumps(json.loads(raw), separators=(",", ":")).encode()
        return verify_webhook(body, header)
    except ValueError:  # the defect's re-parse of a body that is not JSON
        return False


class Shopify(provider_receiver.Provider):
    """Shopify's own deliveries (--provider)."""

    def __init__(self, secret):
        global CLIENT_SECRET
        CLIENT_SECRET = secret

    def verify(self, headers, raw):
        header = headers.get("X-Shopify-Hmac-Sha256")
        return header is not None and verify_webhook(raw, header)

    def read(self, headers, doc):
        at = datetime.strptime(headers["X-Shopify-Triggered-At"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        paid = doc["id"] if headers["X-Shopify-Topic"] == "orders/paid" else None
        cancelled = doc["id"] if headers["X-Shopify-Topic"] == "orders/cancelled" else None
        return provider_receiver.Event(headers["X-Shopify-Event-Id"], int(at.timestamp()), paid, cancelled)

    def invoice_path(self, invoice):
        return "/admin/api/2025-07/orders/%s.json" % invoice  # the REST Admin API's order

    def paid_now(self, doc):
        order = doc["order"]
        return order["financial_status"] == "paid" and order["cancelled_at"] is None


def main():
    global CLIENT_SECRET
    if "--provider" in sys.argv:
        sys.argv.remove("--provider")
        usage = "usage: shopify_receiver.py --provider --secret CLIENT_SECRET [--defect D] [--port 0] [--api-url URL]"
        return provider_receiver.main_for(Shopify, usage)
    args = sys.argv[1:]
    if "--secret" not in args:
        sys.exit("usage: shopify_receiver.py --secret CLIENT_SECRET [--defect reserialises] [--port 0]")
    at = args.index("--secret")
    CLIENT_SECRET = args[at + 1]
    # contract_receiver verifies when it holds a secret (it takes it as base64); its check is
    # replaced by Shopify's.
    args[at + 1] = base64.b64encode(CLIENT_SECRET.encode()).decode()
    base.signature_ok = shopify_verify
    sys.argv = [sys.argv[0]] + args
    return base.main()


if __name__ == "__main__":
    sys.exit(main())
