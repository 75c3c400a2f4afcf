"""Demo of the town's day: an Animateur of Jules-Ferry, a family whose children fill today's
and the next days' lists in both schools (one with a PAI), a pending sick-day report and a
closed roll-call with a penalty. Idempotent: everything is found again by name or date."""

import datetime

from django.utils import timezone

from home.demo import demo_user
from portal.models import (
    AbsenceReport,
    AuthorisedPerson,
    Booking,
    Child,
    Family,
    LedgerEntry,
    RollCall,
    School,
    Service,
    StaffAssignment,
    TariffBracket,
    TicketType,
)
from portal.services import attendance, deadlines
from portal.services.booking import BookingRefused, book_day
from portal.services.wallet import credit_tickets, get_wallet

from .demo_payments import pay_online

STAFF_EMAIL = "animateur.demo@example.org"
FAMILY_EMAIL = "famille.jour.demo@example.org"
AGENT_EMAIL = "agent.demo@example.org"
CHILDREN = [
    # first name, school, class, diet, PAI, birth date (the class's age)
    ("Jules", "École Jules-Ferry", "CP", Child.Diet.PAI_BASKET, True, datetime.date(2020, 4, 2)),
    ("Inès", "École Jules-Ferry", "CM1", Child.Diet.VEGETARIAN, False, datetime.date(2017, 4, 2)),
    ("Nora", "École Louise-Michel", "MS", Child.Diet.NO_PORK, False, datetime.date(2022, 4, 2)),
]


def _service_days(service, start, count, step=1):
    """`count` days from start (forwards or backwards) on which the service runs and is open."""
    span = datetime.timedelta(days=60)
    closures = deadlines.closures_between(start - span, start + span)
    days, day = [], start
    for _i in range(60):
        if (service.runs_on(day) and not deadlines.public_holiday_name(day)
                and not any(c.start <= day <= c.end and c.service_id in (None, service.pk)
                            for c in closures)):
            days.append(day)
            if len(days) == count:
                break
        day += datetime.timedelta(days=step)
    return days


def load():
    canteen = Service.objects.get(name="Cantine")
    evening = Service.objects.get(name="Garderie du soir")
    Service.objects.filter(pk=canteen.pk).update(is_meal=True, unbooked_penalty=2)
    Service.objects.filter(pk=evening.pk).update(shows_pickup=True)
    canteen.refresh_from_db()
    schools = {s.name: s for s in School.objects.all()}
    agent = demo_user(AGENT_EMAIL, "Agnès", "Agent", groups=["Agents"])
    staff = demo_user(STAFF_EMAIL, "Alex", "Animateur", groups=["Animateurs"])
    StaffAssignment.objects.get_or_create(user=staff, school=schools["École Jules-Ferry"])

    guardian = demo_user(FAMILY_EMAIL, "Sofia", "Lefèvre")
    family = Family.objects.filter(guardians=guardian).first()
    if family is None:
        family = Family.objects.create(name="Famille Lefèvre", status=Family.Status.VALIDATED,
                                       city="Saint-Exemple", phone="06 12 34 56 78")
        family.guardians.add(guardian)
    # A complete, accepted file, like the first demo family's: bookings open.
    from portal.demo import complete_demo_file

    complete_demo_file(family, guardian, agent)
    kids = {}
    for first, school, school_class, diet, pai, birth_date in CHILDREN:
        kids[first], _created = Child.objects.get_or_create(
            family=family, first_name=first, defaults={
                "last_name": "Lefèvre", "birth_date": birth_date, "school": schools[school],
                "school_class": school_class, "diet": diet, "has_pai": pai,
                "allergies": "Arachide : trousse PAI dans le sac" if pai else ""})
    AuthorisedPerson.objects.get_or_create(child=kids["Jules"], name="Marc Lefèvre",
                                           defaults={"relationship": "grand-père", "phone": "06 98 76 54 32"})
    if family.tariff_bracket_id is None:
        family.tariff_bracket = TariffBracket.objects.filter(name="Tranche A").first()
        family.save(update_fields=["tariff_bracket"])
    for type_name, quantity in (("Repas", 30), ("Garderie", 10)):
        wallet = get_wallet(family, TicketType.objects.get(name=type_name))
        if wallet.entries.exists():
            continue
        # The care tickets paid online (their price is on the tax attestation: demo_tax).
        if type_name == "Repas" or not pay_online(family, wallet.ticket_type, quantity):
            credit_tickets(wallet, quantity, "Achat en mairie (démo)", by=agent,
                           kind=LedgerEntry.Kind.PURCHASE)

    today = timezone.localdate()
    coming = _service_days(canteen, today, 5)
    if not Booking.objects.filter(child__family=family).exists():
        # Booked as if two weeks ago, before the deadlines: the rules are the same as the planning's.
        then = timezone.now() - datetime.timedelta(days=14)
        for day in coming:
            for child in (kids["Jules"], kids["Nora"]):
                try:
                    book_day(child, canteen, day, by=guardian, now=then)
                    if child is kids["Jules"]:
                        book_day(child, evening, day, by=guardian, now=then)
                except BookingRefused:
                    pass

    # A pending sick-day report: Nora, on her first booked day that can no longer be cancelled.
    if not AbsenceReport.objects.filter(child=kids["Nora"]).exists():
        for day in coming:
            try:
                attendance.report_absence(kids["Nora"], canteen, day, "Fièvre depuis cette nuit", by=guardian)
                break
            except attendance.RollCallError:
                continue

    # A closed roll-call with a penalty: Inès ate at the canteen without a booking last school day.
    past = _service_days(canteen, today - datetime.timedelta(days=1), 1, step=-1)
    school = schools["École Jules-Ferry"]
    if past and not RollCall.objects.filter(school=school, service=canteen, date=past[0]).exists():
        try:
            attendance.mark_child(school, canteen, past[0], kids["Inès"], present=True, by=agent)
            attendance.close_roll_call(school, canteen, past[0], by=agent)
        except attendance.RollCallError:
            pass  # a school-only closure that day: no roll-call to show
