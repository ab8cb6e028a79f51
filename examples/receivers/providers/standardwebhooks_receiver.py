#!/usr/bin/env python3
"""A receiver of Standard Webhooks deliveries (`{type, timestamp, data}`, `webhook-id`,
`webhook-timestamp`, `webhook-signature`), verified with the specification's official library:
`standardwebhooks.webhooks.Webhook(secret).verify(body, headers)`. It deduplicates on `webhook-id`,
as the specification says, and fulfils the invoice of an `invoice.paid` event
(provider_receiver.py has the rest and the defects).

    pip install standardwebhooks
    python3 examples/receivers/providers/standardwebhooks_receiver.py --secret whsec_... [--defect D]
    hooksim certify receiver --provider standard-webhooks --url BASE/webhook --effects-url BASE/effects --secret whsec_...

--defect reserialises | short-dedup-window (provider_receiver.py says what each does).
"""

import os
import sys
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from provider_receiver import Event, Provider, main_for  # noqa: E402


class StandardWebhooks(Provider):
    def __init__(self, secret):
        from standardwebhooks.webhooks import Webhook  # fails at once (exit 1) when not installed

        self.webhook = Webhook(secret)

    def verify(self, headers, raw):
        try:
            self.webhook.verify(raw, {k: v for k, v in headers.items()}, json_parse=False)
            return True
        except Exception:  # the library raises its own error types for every refusal
            return False

    def read(self, headers, doc):
        at = datetime.strptime(doc["timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
        paid = doc["data"]["id"] if doc["type"] == "invoice.paid" else None
        cancelled = doc["data"]["id"] if doc["type"] == "invoice.cancelled" else None
        return Event(headers["webhook-id"], int(at.timestamp()), paid, cancelled)


if __name__ == "__main__":
    sys.exit(main_for(StandardWebhooks, "usage: standardwebhooks_receiver.py --secret whsec_... [--defect D] [--port 0]"))
