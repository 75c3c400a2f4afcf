"""Demo of a waiting list: a Wednesday cooking workshop of two places at Jules-Ferry, full on
its next bookable Wednesday (Jules and Inès of the day-list family), with Léo of the demo
family first on its waiting list. Idempotent."""

import datetime

from django.db import transaction
from django.utils import timezone

from portal.models import Child, Family, LedgerEntry, School, Service, TicketType, User, WaitlistEntry
from portal.services.booking import BookingRefused, book_day, join_waitlist
from portal.services.wallet import credit_tickets, get_wallet

from .demo_attendance import FAMILY_EMAIL as DAY_FAMILY_EMAIL
from .demo_planning import AGENT_EMAIL, FAMILY_EMAIL, school_year

WORKSHOP = "Atelier cuisine du mercredi"


def load():
    year_start, year_end = school_year()
    school = School.objects.get(name="École Jules-Ferry")
    workshop, created = Service.objects.get_or_create(name=WORKSHOP, defaults={
        "ticket_type": TicketType.objects.get(name="Mercredi"), "weekdays": "2", "order": 5,
        "capacity": 2, "start": year_start, "end": year_end, "booking_rule": "weekly",
        "booking_weekday": 3, "booking_time": datetime.time(23, 59), "cancel_rule": "weekly",
        "cancel_weekday": 3, "cancel_time": datetime.time(23, 59)})
    if created:
        workshop.schools.add(school)
    if WaitlistEntry.objects.filter(service=workshop).exists():
        return
    agent = User.objects.get(email=AGENT_EMAIL)
    day_family = Family.objects.get(guardians__email=DAY_FAMILY_EMAIL)
    day_guardian = day_family.guardians.get()
    wallet = get_wallet(day_family, workshop.ticket_type)
    if not wallet.entries.exists():
        credit_tickets(wallet, 5, "Achat en mairie (démo)", by=agent, kind=LedgerEntry.Kind.PURCHASE)
    booked_children = list(Child.objects.filter(family=day_family, school=school).select_related("family")
                           .order_by("first_name")[:2])
    waiting = (Child.objects.select_related("family")
               .filter(family__guardians__email=FAMILY_EMAIL, school=school).order_by("first_name").first())
    now = timezone.now()
    wednesday = timezone.localdate() + datetime.timedelta(days=(2 - timezone.localdate().weekday()) % 7)
    for _week in range(10):
        try:
            with transaction.atomic():  # the whole Wednesday, or nothing of it
                for child in booked_children:
                    book_day(child, workshop, wednesday, by=day_guardian, now=now)
                join_waitlist(waiting, workshop, wednesday, by=waiting.family.guardians.get(), now=now)
            return
        except BookingRefused:
            wednesday += datetime.timedelta(days=7)
