#!/usr/bin/env python3
"""A receiver of Stripe's own deliveries (Event objects, `Stripe-Signature`), verified with Stripe's
official library: `stripe.Webhook.construct_event(payload, sig_header, secret, tolerance=300)`.
It deduplicates on the event `id` (`evt_...`), as Stripe's documentation advises, and fulfils the
invoice of an `invoice.paid` event (provider_receiver.py has the rest and the defects).

    pip install stripe
    python3 examples/receivers/providers/stripe_receiver.py --secret whsec_... [--defect D]
    hooksim certify receiver --provider stripe --url BASE/webhook --effects-url BASE/effects --secret whsec_...

With --api-url http://127.0.0.1:N (and `certify receiver --api-port N`) it retrieves the invoice
(`GET /v1/invoices/in_...`) before fulfilling a `paid` snapshot, as Stripe advises.

--defect reserialises | short-dedup-window | trusts-snapshot (provider_receiver.py says what each does).
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from provider_receiver import Event, Provider, main_for  # noqa: E402


class Stripe(Provider):
    def __init__(self, secret):
        import stripe  # fails at once (exit 1) when not installed

        self.stripe, self.secret = stripe, secret

    def verify(self, headers, raw):
        header = headers.get("Stripe-Signature")
        if header is None:
            return False
        try:
            self.stripe.Webhook.construct_event(raw, header, self.secret, tolerance=300)
            return True
        except self.stripe.SignatureVerificationError:
            return False
        except Exception:  # signed, but not an event (not JSON, a JSON list): read() answers 400
            return True

    def read(self, headers, doc):
        if doc["object"] != "event":
            raise ValueError("not a Stripe event")
        obj = doc["data"]["object"]
        invoice = str(obj["id"]).removeprefix("in_")
        paid = invoice if doc["type"] == "invoice.paid" else None
        voided = invoice if doc["type"] == "invoice.voided" else None
        return Event(str(doc["id"]), int(doc["created"]), paid, voided)

    def invoice_path(self, invoice):
        return "/v1/invoices/in_%s" % invoice  # Retrieve an invoice

    def paid_now(self, doc):
        return doc["status"] == "paid"


if __name__ == "__main__":
    sys.exit(main_for(Stripe, "usage: stripe_receiver.py --secret whsec_... [--defect D] [--port 0] [--api-url URL]"))
