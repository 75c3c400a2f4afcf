"""Demo of a child in two households (separated parents): Léo of the demo family also lives with
his father, Thomas Martin, whose household has its own login, file, wallet and canteen days; each
household sees the other's days as « Réservé par l’autre foyer ». Idempotent."""

import datetime

from django.utils import timezone

from home.demo import demo_user
from portal.models import Booking, Child, Family, LedgerEntry, Service, TicketType
from portal.services.booking import BookingRefused, book_day
from portal.services.wallet import credit_tickets, get_wallet

from .demo_planning import AGENT_EMAIL, FAMILY_EMAIL

SECOND_HOUSEHOLD_EMAIL = "famille.foyer2.demo@example.org"


def load():
    from portal.demo import complete_demo_file
    from portal.demo_attendance import _service_days

    agent = demo_user(AGENT_EMAIL, "Agnès", "Agent", groups=["Agents"])
    father = demo_user(SECOND_HOUSEHOLD_EMAIL, "Thomas", "Martin")
    household = Family.objects.filter(guardians=father).first()
    if household is None:
        household = Family.objects.create(name="Foyer de Thomas Martin", status=Family.Status.VALIDATED,
                                          address="8 avenue des Lilas", postcode="99999",
                                          city="Saint-Exemple", phone="06 55 44 33 22")
        household.guardians.add(father)
    complete_demo_file(household, father, agent)
    leo = Child.objects.get(family__guardians__email=FAMILY_EMAIL, first_name="Léo")
    if leo.other_family_id != household.pk:
        leo.other_family = household
        leo.save(update_fields=["other_family"])
    if Booking.objects.filter(family=household).exists():
        return
    wallet = get_wallet(household, TicketType.objects.get(name="Repas"))
    if not wallet.entries.exists():
        credit_tickets(wallet, 6, "Achat en mairie (démo)", by=agent, kind=LedgerEntry.Kind.PURCHASE)
    # The father's canteen days: the next open days the mother has not booked, two weeks ahead.
    canteen = Service.objects.get(name="Cantine")
    leo.seen_by(household)
    booked = 0
    for day in _service_days(canteen, timezone.localdate() + datetime.timedelta(days=7), 10):
        try:
            book_day(leo, canteen, day, by=father)
        except BookingRefused:
            continue
        booked += 1
        if booked == 3:
            break
