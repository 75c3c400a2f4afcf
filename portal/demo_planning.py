"""Demo planning: services of both schools, tickets, prices, closures and a living family month.

Idempotent: objects are found by name; tickets and bookings are added only to an empty wallet.
"""

import datetime

from django.utils import timezone

from home.demo import demo_user
from portal.models import (
    Booking,
    Child,
    Closure,
    Family,
    LedgerEntry,
    Price,
    School,
    Service,
    TariffBracket,
    TicketType,
)
from portal.services import deadlines
from portal.services.booking import BookingRefused, book_day
from portal.services.wallet import credit_tickets, get_wallet

FAMILY_EMAIL = "famille.demo@example.org"
AGENT_EMAIL = "agent.demo@example.org"

BRACKETS = [("Tranche A", 0, 600), ("Tranche B", 601, 1200), ("Tranche C", 1201, None)]
PRICES = {"Repas": (120, 310, 450), "Garderie": (80, 150, 220), "Mercredi": (300, 650, 900)}
SERVICES = [
    # name, ticket type, weekdays, order, capacity, booking rule
    ("Cantine", "Repas", "0134", 1, None, {"booking_days": 2, "booking_working_days": True}),
    ("Garderie du matin", "Garderie", "0134", 2, None, {"booking_days": 1}),
    ("Garderie du soir", "Garderie", "0134", 3, None, {"booking_days": 1}),
    ("Accueil du mercredi", "Mercredi", "2", 4, 40,
     {"booking_rule": "weekly", "booking_weekday": 3, "booking_time": datetime.time(23, 59),
      "cancel_rule": "weekly", "cancel_weekday": 3, "cancel_time": datetime.time(23, 59)}),
]


def school_year():
    """The current school year (from 1 September), or the coming one during the summer."""
    today = timezone.localdate()
    first = today.year if today.month >= 7 else today.year - 1
    return datetime.date(first, 9, 1), datetime.date(first + 1, 7, 3)


def load():
    year_start, year_end = school_year()
    schools = [School.objects.get_or_create(name=name)[0]
               for name in ("École Jules-Ferry", "École Louise-Michel")]
    types = {name: TicketType.objects.get_or_create(name=name)[0] for name in PRICES}
    brackets = []
    for name, low, high in BRACKETS:
        bracket, _ = TariffBracket.objects.get_or_create(
            name=name, defaults={"quotient_min": low, "quotient_max": high})
        brackets.append(bracket)
    for type_name, cents in PRICES.items():
        for bracket, unit in zip(brackets, cents, strict=True):
            Price.objects.get_or_create(ticket_type=types[type_name], bracket=bracket,
                                        defaults={"unit_cents": unit})
    for name, type_name, weekdays, order, capacity, rules in SERVICES:
        service, created = Service.objects.get_or_create(name=name, defaults={
            "ticket_type": types[type_name], "weekdays": weekdays, "order": order, "capacity": capacity,
            "start": year_start, "end": year_end, **rules})
        service.schools.add(*schools)
    deadlines.import_holidays(year_start, year_end.replace(month=8, day=31), "B", public=False)
    Closure.objects.get_or_create(kind=Closure.Kind.ONE_OFF, reason="Sortie scolaire au musée",
                                  start=year_start.replace(year=year_end.year, month=1, day=14),
                                  end=year_start.replace(year=year_end.year, month=1, day=14),
                                  school=schools[1], service=Service.objects.get(name="Cantine"))

    # The Agents group and its permissions come from the migrations, as in a real town.
    agent = demo_user(AGENT_EMAIL, "Agnès", "Agent", groups=["Agents"])

    user = demo_user(FAMILY_EMAIL, "Camille", "Demo")
    family = Family.objects.filter(guardians=user).first()
    if family is None:
        family = Family.objects.create(name="Famille Demo", status=Family.Status.VALIDATED,
                                       city="Saint-Exemple", tariff_bracket=brackets[1])
        family.guardians.add(user)
        Child.objects.create(family=family, first_name="Léa", last_name="Demo",
                             birth_date=datetime.date(2018, 3, 12), school=schools[0], school_class="CE2")
        Child.objects.create(family=family, first_name="Hugo", last_name="Demo",
                             birth_date=datetime.date(2020, 6, 2), school=schools[1], school_class="GS")
    if family.tariff_bracket_id is None:
        family.tariff_bracket = brackets[1]
        family.save(update_fields=["tariff_bracket"])
    for type_name, quantity in (("Repas", 20), ("Garderie", 10), ("Mercredi", 4)):
        wallet = get_wallet(family, types[type_name])
        if not wallet.entries.exists():
            credit_tickets(wallet, quantity, "Achat en mairie (démo)", by=agent,
                           kind=LedgerEntry.Kind.PURCHASE)
    if not Booking.objects.filter(child__family=family).exists() and family.is_validated:
        book_some_days(family, user)


def book_some_days(family, user):
    """The canteen on the next open days for each child, and two evenings of care."""
    canteen = Service.objects.get(name="Cantine")
    evening = Service.objects.get(name="Garderie du soir")
    now = timezone.now()
    day = max(timezone.localdate() + datetime.timedelta(days=4), canteen.start)
    for child in Child.objects.filter(family=family).select_related("family"):
        booked, tries = 0, 0
        current = day
        while booked < 6 and tries < 40:
            try:
                book_day(child, canteen, current, by=user, now=now)
                booked += 1
                if booked <= 2:
                    book_day(child, evening, current, by=user, now=now)
            except BookingRefused:
                pass
            current += datetime.timedelta(days=1)
            tries += 1
