#!/usr/bin/env python3
"""The contract receiver (../contract_receiver.py) verifying Slack request signatures with Slack's
official SDK: `slack_sdk.signature.SignatureVerifier(secret).is_valid_request(body, headers)`, which
checks `X-Slack-Signature: v0=<hex HMAC-SHA256 of v0:timestamp:body>` and refuses a
`X-Slack-Request-Timestamp` more than five minutes from this machine's clock.

    pip install slack_sdk
    python3 examples/receivers/providers/slack_receiver.py --secret SIGNING_SECRET [--defect reserialises]
    hooksim certify receiver --url BASE/webhook --effects-url BASE/effects --secret SIGNING_SECRET --scheme slack

Everything else (dedup, stale payloads, the effects list) is contract_receiver.py's, unchanged: it
plays SnapBill's envelope, signed as Slack signs, not Slack's own events.

With --provider it receives Slack's own deliveries instead (Events API `event_callback` bodies,
and the `url_verification` handshake, verified like any request and answered with its
challenge): it deduplicates on `event_id`, which Slack's retries keep, and fulfils the invoice of
an `invoice_paid` message (provider_receiver.py has the rest and the defects: reserialises,
short-dedup-window, rejects-handshake, trusts-snapshot):

    python3 examples/receivers/providers/slack_receiver.py --provider --secret SIGNING_SECRET [--defect D] [--api-url URL]
    hooksim certify receiver --provider slack --url BASE/webhook --effects-url BASE/effects --secret SIGNING_SECRET

With --api-url http://127.0.0.1:N (and `certify receiver --api-port N`, the simulated API) it
reads the invoice as it is now before fulfilling a `paid` snapshot (billing.invoices.info).

--defect reserialises is the mistake Slack's documentation warns about (verify the raw body): the
body is parsed and written again (json.dumps(json.loads(body))) before it is handed to the
verifier, so the signature is checked over other bytes. Certification fails it on
signature-raw-bytes and large-body.
"""

import base64
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import contract_receiver as base  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import provider_receiver  # noqa: E402

VERIFIER = None


def slack_verify(headers, raw):
    try:  # a body that is not JSON cannot be re-serialised: refused like a bad signature
        body = raw
        if base.DEFECT == "reserialises":
            # Compact, as a framework's JSON encoder writes it: only bytes written otherwise differ.
            body = json.dumps(json.loads(raw), separators=(",", ":")).encode()
        return VERIFIER.is_valid_request(body, {k: v for k, v in headers.items()})
    except Exception:  # the SDK raises on a timestamp that is not a number
        return False


class Slack(provider_receiver.Provider):
    """Slack's own deliveries (--provider)."""

    def __init__(self, secret):
        from slack_sdk.signature import SignatureVerifier  # fails at once (exit 1) when not installed

        self.verifier = SignatureVerifier(signing_secret=secret)

    def verify(self, headers, raw):
        try:
            return self.verifier.is_valid_request(raw, {k: v for k, v in headers.items()})
        except Exception:  # the SDK raises on a timestamp that is not a number
            return False

    def challenge(self, doc):
        if isinstance(doc, dict) and doc.get("type") == "url_verification":
            return str(doc["challenge"])
        return None

    def read(self, headers, doc):
        if doc["type"] != "event_callback":
            raise ValueError("not an event_callback")
        metadata = doc["event"].get("metadata") or {}
        kind = metadata.get("event_type")
        paid = metadata["event_payload"]["id"] if kind == "invoice_paid" else None
        cancelled = metadata["event_payload"]["id"] if kind == "invoice_cancelled" else None
        return provider_receiver.Event(doc["event_id"], int(doc["event_time"]), paid, cancelled)

    def invoice_path(self, invoice):
        return "/api/billing.invoices.info?invoice=%s" % invoice  # hooksim's billing app's method

    def paid_now(self, doc):
        return doc.get("ok") is True and doc["invoice"]["state"] == "paid"


def main():
    global VERIFIER
    if "--provider" in sys.argv:
        sys.argv.remove("--provider")
        usage = "usage: slack_receiver.py --provider --secret SIGNING_SECRET [--defect D] [--port 0] [--api-url URL]"
        return provider_receiver.main_for(Slack, usage)
    args = sys.argv[1:]
    if "--secret" not in args:
        sys.exit("usage: slack_receiver.py --secret SIGNING_SECRET [--defect reserialises] [--port 0]")
    at = args.index("--secret")
    secret = args[at + 1]
    from slack_sdk.signature import SignatureVerifier  # fails at once (exit 1) when not installed

    VERIFIER = SignatureVerifier(signing_secret=secret)
    # contract_receiver verifies when it holds a secret (it takes it as base64); its check is
    # replaced by the SDK's.
    args[at + 1] = base64.b64encode(secret.encode()).decode()
    base.signature_ok = slack_verify
    sys.argv = [sys.argv[0]] + args
    return base.main()


if __name__ == "__main__":
    sys.exit(main())
