#!/usr/bin/env python3
"""The contract receiver (contract_receiver.py) verifying signatures with an official library.

    pip install standardwebhooks stripe
    python3 examples/receivers/library_receiver.py --library standardwebhooks --secret whsec_... [--defect reserialises]
    hooksim certify receiver --url BASE/webhook --effects-url BASE/effects --secret whsec_... --scheme standard-webhooks

--library standardwebhooks verifies with `standardwebhooks.webhooks.Webhook(secret).verify(body, headers)`;
--library stripe with `stripe.WebhookSignature.verify_header(body, header, secret, tolerance=300)`.
Everything else (dedup, stale payloads, the effects list) is contract_receiver.py's, unchanged.

--defect reserialises is the mistake the libraries' documentation warns about: the body is parsed
and written again (json.dumps) before it is handed to the library, so the library checks the
signature over other bytes. Certification fails it on signature-raw-bytes and large-body.
"""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import contract_receiver as base  # noqa: E402

LIBRARY = None
SECRET_TEXT = None  # the secret as the library takes it (text, `whsec_` prefix and all)


def library_verify(headers, raw):
    body = raw
    if base.DEFECT == "reserialises":
        body = json.dumps(json.loads(raw), separators=(",", ":")).encode()
    secret = SECRET_TEXT
    try:  # imported here: a missing library is a refusal to start, checked in main()
        if LIBRARY == "standardwebhooks":
            from standardwebhooks.webhooks import Webhook

            Webhook(secret).verify(body, {k: v for k, v in headers.items()}, json_parse=False)
        else:
            import stripe

            stripe.WebhookSignature.verify_header(body.decode("utf-8"), headers.get("Stripe-Signature"), secret, tolerance=300)
        return True
    except Exception:  # the libraries raise their own error types for every refusal
        return False


def main():
    global LIBRARY, SECRET_TEXT
    args = sys.argv[1:]
    if "--library" not in args or "--secret" not in args:
        sys.exit("usage: library_receiver.py --library standardwebhooks|stripe --secret SECRET [--defect reserialises]")
    at = args.index("--library")
    LIBRARY = args[at + 1]
    del args[at : at + 2]
    if LIBRARY not in ("standardwebhooks", "stripe"):
        sys.exit("--library: standardwebhooks or stripe")
    SECRET_TEXT = args[args.index("--secret") + 1]
    __import__(LIBRARY)  # fails at once (exit 1) when the library is not installed
    # contract_receiver verifies when it has a secret; its check is replaced by the library's.
    base.signature_ok = library_verify
    sys.argv = [sys.argv[0]] + args
    return base.main()


if __name__ == "__main__":
    sys.exit(main())
