"""Receipts: gap-free numbers per year, the PDF, the e-mail after commit."""


from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from documents.pdf import simple_pdf
from portal.models import (
    Receipt,
    ReceiptCounter,
)
from portal.money import euros
from portal.services import deadlines, notify
from portal.services.mail import absolute_url
from portal.services.town import town_settings


def allocate_receipt(paid_purchase):
    """The next number of the year, taken under a lock on the year's counter in the caller's
    transaction: a rolled-back payment gives its number back, so the sequence has no gap."""
    year = timezone.localtime(paid_purchase.paid_at, deadlines.PARIS).year
    counter = ReceiptCounter.objects.select_for_update().filter(year=year).first()
    if counter is None:
        try:
            with transaction.atomic():
                ReceiptCounter.objects.create(year=year)
        except IntegrityError:
            pass  # created meanwhile by a concurrent payment
        counter = ReceiptCounter.objects.select_for_update().get(year=year)
    counter.last_number += 1
    counter.save(update_fields=["last_number"])
    return Receipt.objects.create(purchase=paid_purchase, year=year, number=counter.last_number,
                                  issued_at=paid_purchase.paid_at)



def receipt_label(purchase):
    receipt = Receipt.objects.filter(purchase=purchase).first()
    return receipt.label if receipt else "—"


def receipt_context(receipt):
    p = receipt.purchase
    town = town_settings()
    return {
        "receipt": receipt, "purchase": p, "family": p.family,
        "town_name": getattr(town, "town_name", ""), "header": getattr(town, "receipt_header", ""),
        "paid_at": timezone.localtime(p.paid_at, deadlines.PARIS),
        "unit": euros(p.unit_cents), "amount": euros(p.amount_cents),
        "refunded": euros(p.refunded_cents) if p.refunded_cents else "",
    }


def receipt_pdf(receipt):
    from django.utils.html import escape

    c = receipt_context(receipt)
    p = c["purchase"]
    header = [escape(line) for line in (c["header"] or c["town_name"]).splitlines() if line.strip()]
    payment = [
        _("Payé le %(date)s") % {"date": c["paid_at"].strftime("%d/%m/%Y %H:%M")},
        _("Moyen de paiement : %(m)s") % {"m": p.get_method_display()},
    ]
    if p.reference:
        payment.append(_("Référence : %(r)s") % {"r": escape(p.reference)})
    if p.payment_id:
        payment.append(_("Transaction : %(r)s") % {"r": escape(p.payment_id)})
    family = [escape(p.family.name)]
    address = " ".join(part for part in (p.family.address, p.family.postcode, p.family.city) if part)
    if address:
        family.append(escape(address))
    sections = [
        (_("Émetteur"), header or [escape(c["town_name"])]),
        (_("Famille"), family),
        (_("Détail"), [_("%(n)d ticket(s) %(type)s × %(unit)s = <b>%(amount)s</b>") % {
            "n": p.quantity, "type": escape(p.ticket_type.name), "unit": c["unit"], "amount": c["amount"]}]),
        (_("Paiement"), payment),
    ]
    if c["refunded"]:
        sections.append((_("Remboursement"), [_("Remboursé depuis : %(a)s") % {"a": c["refunded"]}]))
    return simple_pdf(_("Reçu n° %(n)s") % {"n": receipt.label}, sections, author=c["town_name"])


def send_receipt_after_commit(purchase, receipt):
    """The receipt, with its PDF, to the family's guardians (queued: services/mail.py), recorded
    with the family's other notifications; a family cannot switch receipts off."""
    notify.notify(purchase.family, notify.Kind.RECEIPT, "payment_receipt", {
        "purchase": purchase, "receipt": receipt, "amount": euros(purchase.amount_cents),
        "wallet_url": absolute_url(reverse("portal:payment_list"))},
        key=f"receipt:{receipt.pk}",
        attachments=[(f"recu-{receipt.label}.pdf", receipt_pdf(receipt), "application/pdf")])
