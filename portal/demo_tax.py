"""Demo of the attestation de frais de garde: the care services carry the tax-credit flag, the
town its SIRET, and the Lefèvre family's youngest (Jules, 5 on 1 January 2026 and 6 in April;
Nora, 4) went to the evening care on past days of the school year, paid online: the family's
attestations page shows what it paid.

Idempotent: the flags and SIRET are set again; the past days are booked and paid only once.
"""

import datetime

from django.utils import timezone

from home.models import TownSettings
from portal.models import Booking, Child, Service, Wallet
from portal.services import tax_attestation
from portal.services.booking import BookingRefused, book_day

from .demo_attendance import FAMILY_EMAIL
from .demo_payments import pay_online

ELIGIBLE = ("Garderie du matin", "Garderie du soir", "Accueil du mercredi")
SIRET = "21990001600018"  # made up: a commune (2…), département 99 does not exist
DAYS_PER_CHILD = 8


def load():
    Service.objects.filter(name__in=ELIGIBLE, is_meal=False).update(childcare_tax_credit=True)
    TownSettings.objects.filter(siret="").update(siret=SIRET)
    evening = Service.objects.filter(name="Garderie du soir").first()
    today = timezone.localdate()
    children = [c for c in Child.objects.filter(family__guardians__email=FAMILY_EMAIL)
                .select_related("family", "school").order_by("pk")
                if tax_attestation.child_is_eligible(c.birth_date, today.year)]
    if evening is None or not children or not children[0].family.is_validated:
        return
    family = children[0].family
    if Booking.objects.filter(child__in=children, service=evening, date__lt=today).exists():
        return
    guardian = family.guardians.order_by("pk").first()
    for child in children:
        day, booked = evening.start, 0
        while day < today and booked < DAYS_PER_CHILD:
            balance = Wallet.objects.filter(family=family, ticket_type=evening.ticket_type_id).values_list(
                "balance", flat=True).first() or 0
            if not balance and not pay_online(family, evening.ticket_type, 10):
                return
            # Booked two days ahead, as the family would have: the planning's rules apply.
            then = timezone.make_aware(datetime.datetime.combine(day, datetime.time(8)))
            try:
                book_day(child, evening, day, by=guardian, now=then - datetime.timedelta(days=2))
                booked += 1
            except BookingRefused:
                pass
            day += datetime.timedelta(days=1)
