"""Demo of what `manage.py send_notifications` sends: a family whose child usually eats at the
canteen (booked in the last weeks) but has nothing booked for the coming week, with one meal
ticket left. Idempotent; when the demo is loaded again weeks later, recent days are booked again
so that the child still "usually" uses the canteen."""

import datetime

from django.utils import timezone

from home.demo import demo_user
from portal.models import (
    Booking,
    Child,
    Family,
    LedgerEntry,
    School,
    Service,
    TicketType,
)
from portal.services.booking import BookingRefused, book_day
from portal.services.notify import USUAL_PERIOD
from portal.services.wallet import credit_tickets, get_wallet

FAMILY_EMAIL = "famille.rappel.demo@example.org"
AGENT_EMAIL = "agent.demo@example.org"


def load():
    from portal.demo import complete_demo_file
    from portal.demo_attendance import _service_days

    canteen = Service.objects.get(name="Cantine")
    meal = TicketType.objects.get(name="Repas")
    agent = demo_user(AGENT_EMAIL, "Agnès", "Agent", groups=["Agents"])
    guardian = demo_user(FAMILY_EMAIL, "Samia", "Benali")
    family = Family.objects.filter(guardians=guardian).first()
    if family is None:
        family = Family.objects.create(name="Famille Benali", status=Family.Status.VALIDATED,
                                       city="Saint-Exemple", phone="06 11 22 33 44")
        family.guardians.add(guardian)
    complete_demo_file(family, guardian, agent)
    child, _created = Child.objects.get_or_create(family=family, first_name="Jade", defaults={
        "last_name": "Benali", "birth_date": datetime.date(2017, 5, 9),
        "school": School.objects.get(name="École Jules-Ferry"), "school_class": "CM1"})

    today = timezone.localdate()
    if Booking.objects.filter(child=child, date__gte=today - USUAL_PERIOD + datetime.timedelta(days=7),
                              date__lt=today).exists():
        return
    # Three canteen days of the last three weeks, booked then (same rules as the planning), each
    # paid with a ticket bought for it, plus one ticket left: under the alert threshold (3).
    wallet = get_wallet(family, meal)
    if not wallet.entries.exists():
        credit_tickets(wallet, 1, "Achat en mairie (démo)", by=agent, kind=LedgerEntry.Kind.PURCHASE)
    for day in _service_days(canteen, today - datetime.timedelta(days=1), 3, step=-1):
        if day < today - datetime.timedelta(days=21):
            break
        credit_tickets(wallet, 1, "Achat en mairie (démo)", by=agent, kind=LedgerEntry.Kind.PURCHASE)
        try:
            book_day(child, canteen, day, by=guardian,
                     now=timezone.now() - datetime.timedelta(days=(today - day).days + 7))
        except BookingRefused:
            pass
