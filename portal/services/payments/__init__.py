"""Buying tickets: purchases, crediting exactly once, receipts, refunds, disputes, the treasury journal.

Every path that turns money into tickets — Stripe's webhook, the return page, reconciliation,
the demo page, a town-hall payment — ends in `purchases.credit`, which runs under a lock on the
purchase row and does nothing if the purchase is already paid.

purchases (prices, online and town-hall purchases, crediting) → receipts (numbers, PDF, mail);
refunds (ours and Stripe's) and webhook (Stripe events, reconciliation) build on purchases;
treasury (the journal, outstanding tickets) only reads.
"""


class PaymentError(Exception):
    """A refused payment action; the message is shown to the user as is, the code is the API's."""

    def __init__(self, message, code="refused"):
        super().__init__(message)
        self.code = code


class AmountMismatch(Exception):
    pass


class UnknownPayment(Exception):
    """A provider event about a payment Préau has not credited (yet)."""
