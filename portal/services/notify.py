"""What Préau tells families by e-mail, to whom and when. Sending itself is mail.py's one path.

Every message is recorded (SentNotification) under a unique key in the transaction that queues
it: a scheduled run that meets a key already taken sends nothing, so running the scheduled
command twice, or two overlapping runs, never sends a reminder or an alert twice. Messages go
out in French (the town's language) whatever language the page that caused them was in, and
never carry health data.
"""

import datetime
import functools
import uuid
from dataclasses import dataclass, field

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from portal.models import Booking, Child, Family, FileItem, SentNotification, Service, Wallet

from . import deadlines, tax_attestation
from .mail import absolute_url, send_after_commit
from .town import town_settings

Kind = SentNotification.Kind

# The family's switch for each kind; payment receipts (and account e-mails, which are not
# recorded here) have none.
PREFERENCES = {
    Kind.REMINDER: "email_reminders",
    Kind.LOW_BALANCE: "email_low_balance",
    Kind.BOOKINGS: "email_bookings",
    Kind.FILE: "email_file",
}
# A service "usually used" by a child: booked for a day of the last four weeks.
USUAL_PERIOD = datetime.timedelta(weeks=4)
LOW_BALANCE_EVERY = datetime.timedelta(days=2)
DEFAULT_REMINDER = (1, 18)  # Tuesday 18:00, when no town settings exist yet


# Sending -------------------------------------------------------------------------------------

def recipients(family):
    return [g.email for g in family.guardians.all() if g.is_active and g.email]


def wants(family, kind):
    name = PREFERENCES.get(kind)
    return name is None or getattr(family, name)


def notify(family, kind, template, context, *, key=None, ticket_type=None, now=None,
           attachments=(), always=False):
    """Queue portal/emails/<template>.txt to the family's guardians and record it, unless the
    family switched this kind off (and the message is not `always` sent) or `key` was already
    used. Returns the record, or None when nothing was sent. `attachments`: (filename, bytes,
    mimetype)."""
    if not (always or wants(family, kind)):
        return None
    to = recipients(family)
    if not to:
        return None
    town = town_settings()
    context = {"family": family, "town": town,
               "preferences_url": absolute_url(reverse("portal:notifications")), **context}
    with translation.override(settings.LANGUAGE_CODE):
        text = render_to_string(f"portal/emails/{template}.txt", context)
        try:
            with transaction.atomic():
                record = SentNotification.objects.create(
                    family=family, kind=kind, key=key or f"{kind}:{uuid.uuid4().hex}",
                    ticket_type=ticket_type, subject=text.strip().partition("\n")[0].strip()[:255],
                    recipients=", ".join(to)[:500], sent_at=now or timezone.now())
                send_after_commit(template, context, to, attachments=attachments)
        except IntegrityError:
            # The key is taken: this message was sent already, maybe by a concurrent run.
            return None
    return record


# French dates ------------------------------------------------------------------------------

def _day_number(day):
    return _("1er") if day.day == 1 else str(day.day)


def day_label(day):
    """« jeudi 3 décembre »."""
    return f"{formats.date_format(day, 'l')} {_day_number(day)} {formats.date_format(day, 'F')}"


def week_label(monday):
    """« 7 décembre »."""
    return f"{_day_number(monday)} {formats.date_format(monday, 'F')}"


def moment_label(moment):
    """« jeudi 3 décembre à 23 h 59 », in Paris time."""
    local = moment.astimezone(deadlines.PARIS)
    return _("%(day)s à %(hour)d h %(minute)02d") % {
        "day": day_label(local.date()), "hour": local.hour, "minute": local.minute}


def planning_url(child, service, day):
    """The child's planning at that day's week, scrolled to the day's cell."""
    path = reverse("portal:planning_child", args=[child.pk])
    return absolute_url(f"{path}?semaine={day.isoformat()}#c-{child.pk}-{service.pk}-{day:%Y%m%d}")


# Deadline reminders --------------------------------------------------------------------------

def _reminder_opens(now, weekday, hour):
    """(this week's Monday, this week's reminder time), Paris time."""
    local = timezone.localtime(now, deadlines.PARIS)
    monday = local.date() - datetime.timedelta(days=local.weekday())
    return monday, datetime.datetime.combine(monday + datetime.timedelta(days=weekday),
                                             datetime.time(hour), tzinfo=deadlines.PARIS)


def reminder_week(now, weekday, hour):
    """The Monday of the week reminders are due for at `now`: the next week, once this week's
    reminder time (weekday and hour, Paris time) has come; else None."""
    monday, opens = _reminder_opens(now, weekday, hour)
    return monday + datetime.timedelta(days=7) if now >= opens else None


def reminder_settings():
    town = town_settings()
    return (town.reminder_weekday, town.reminder_hour) if town else DEFAULT_REMINDER


def reminder_time_this_week(now):
    """When this week's reminders leave (the town's weekday and hour)."""
    return _reminder_opens(now, *reminder_settings())[1]


@dataclass
class ReminderLine:
    child: Child
    services: list
    first_day: datetime.date
    deadline: datetime.datetime
    monday: datetime.date

    @property
    def text(self):
        return _("Rien n’est réservé pour %(child)s la semaine du %(week)s (%(services)s) ; "
                 "date limite : %(deadline)s.") % {
            "child": self.child.first_name, "week": week_label(self.monday),
            "services": ", ".join(s.name for s in self.services),
            "deadline": moment_label(self.deadline)}

    @property
    def url(self):
        return planning_url(self.child, self.services[0], self.first_day)


@dataclass
class Reminders:
    monday: datetime.date | None
    families: dict = field(default_factory=dict)  # {Family: [ReminderLine]}


def due_reminders(now=None):
    """Who gets a reminder now: each validated family that did not switch reminders off, for
    each child and service the child used in the last four weeks with nothing booked in the
    coming week, while a day of that week can still be booked. Seven queries, whatever the
    number of families."""
    now = now or timezone.now()
    monday = reminder_week(now, *reminder_settings())
    if monday is None:
        return Reminders(None)
    days = [monday + datetime.timedelta(days=i) for i in range(7)]
    today = timezone.localtime(now, deadlines.PARIS).date()
    # Per household: a child of separated parents is reminded to the household that used the
    # service (its own bookings), unless either household booked the coming week.
    reminded = {"status": Family.Status.VALIDATED, "email_reminders": True}
    families = {f.pk: f for f in Family.objects.filter(**reminded).filter(
        Exists(Child.objects.filter(Child.of_household(OuterRef("pk"))))).prefetch_related("guardians")}
    if not families:
        return Reminders(monday)
    of_reminded = Child.objects.filter(Q(family__in=Family.objects.filter(**reminded))
                                       | Q(other_family__in=Family.objects.filter(**reminded)))
    children = list(of_reminded.order_by("first_name", "pk"))
    bookings = Booking.objects.filter(child__in=of_reminded.values("pk"))
    usual = set(bookings.filter(date__gte=today - USUAL_PERIOD, date__lt=monday,
                                family__in=Family.objects.filter(**reminded))
                .values_list("family_id", "child_id", "service_id").distinct())
    booked = set(bookings.filter(date__range=(days[0], days[-1]), status=Booking.Status.ACTIVE)
                 .values_list("child_id", "service_id").distinct())
    services = Service.for_schools(sorted({c.school_id for c in children}))
    closures = deadlines.closures_between(days[0], days[-1])
    result = Reminders(monday)
    pairs = sorted(((families[f], child) for child in children for f in child.households() if f in families),
                   key=lambda p: (p[0].name, p[0].pk))
    for family, child in pairs:
        by_deadline = {}
        for service in services[child.school_id]:
            pair = (child.pk, service.pk)
            if (family.pk, *pair) not in usual or pair in booked:
                continue
            rule = deadlines.booking_rule(service)
            open_days = [(deadlines.deadline(rule, day), day) for day in days
                         if service.runs_on(day) and not deadlines.public_holiday_name(day)
                         and deadlines.closure_for(closures, child.school_id, service.pk, day) is None]
            open_days = [(limit, day) for limit, day in open_days if limit >= now]
            if not open_days:
                continue  # holidays, a closed week, or every deadline already passed
            limit, first = min(open_days)
            line = by_deadline.setdefault(limit, ReminderLine(child, [], first, limit, monday))
            line.services.append(service)
            line.first_day = min(line.first_day, first)
        if by_deadline:
            result.families.setdefault(family, []).extend(
                by_deadline[limit] for limit in sorted(by_deadline))
    return result


def reminder_key(family, monday):
    return f"reminder:{family.pk}:{monday.isoformat()}"


def send_deadline_reminders(now=None):
    """Send the reminders due now; one e-mail per family and week, whatever the number of
    children and however often this runs. Returns how many were sent."""
    now = now or timezone.now()
    due = due_reminders(now)
    if not due.families:
        return 0
    keys = {reminder_key(f, due.monday) for f in due.families}
    taken = set(SentNotification.objects.filter(key__in=keys).values_list("key", flat=True))
    sent = 0
    for family, lines in due.families.items():
        key = reminder_key(family, due.monday)
        if key in taken:
            continue
        context = {"lines": lines, "week": week_label(due.monday),
                   "deadline": moment_label(min(line.deadline for line in lines))}
        if notify(family, Kind.REMINDER, "reminder", context, key=key, now=now):
            sent += 1
    return sent


# Low balance ---------------------------------------------------------------------------------

def due_low_balances(now=None):
    """[(wallet, n)]: wallets under their ticket type's threshold, of validated families that use
    that ticket (a booking of the last four weeks or to come) and were not alerted for it in the
    last two days; n numbers the alert. Four queries."""
    now = now or timezone.now()
    today = timezone.localtime(now, deadlines.PARIS).date()
    wallets = list(Wallet.objects.filter(
        family__status=Family.Status.VALIDATED, family__email_low_balance=True,
        ticket_type__low_balance_threshold__gt=0,
        balance__lt=F("ticket_type__low_balance_threshold"),
    ).select_related("family", "ticket_type").prefetch_related("family__guardians").order_by("pk"))
    if not wallets:
        return []
    families = {w.family_id for w in wallets}
    used = set(Booking.objects.filter(family_id__in=families, date__gte=today - USUAL_PERIOD)
               .values_list("family_id", "service__ticket_type_id").distinct())
    # One read gives both the last alert and the count: a run that saw no earlier alert
    # numbers its own like that alert and collides with it on the unique key.
    last, counts = {}, {}
    for family_id, type_id, sent_at in SentNotification.objects.filter(
            kind=Kind.LOW_BALANCE, family_id__in=families).values_list(
            "family_id", "ticket_type_id", "sent_at"):
        pair = (family_id, type_id)
        counts[pair] = counts.get(pair, 0) + 1
        last[pair] = max(last.get(pair, sent_at), sent_at)
    due = []
    for w in wallets:
        pair = (w.family_id, w.ticket_type_id)
        if pair in used and not (pair in last and last[pair] > now - LOW_BALANCE_EVERY):
            due.append((w, counts.get(pair, 0) + 1))
    return due


def send_low_balance_alerts(now=None):
    """Alert the families whose balance is low (due_low_balances); two overlapping runs compute
    the same key for the same alert and only one sends."""
    now = now or timezone.now()
    sent = 0
    for wallet, n in due_low_balances(now):
        context = {"wallet": wallet, "ticket_type": wallet.ticket_type,
                   "buy_url": absolute_url(reverse("portal:payment_buy")),
                   "planning_url": absolute_url(reverse("portal:planning"))}
        if notify(wallet.family, Kind.LOW_BALANCE, "low_balance", context,
                  key=f"low_balance:{wallet.family_id}:{wallet.ticket_type_id}:{n}",
                  ticket_type=wallet.ticket_type, now=now):
            sent += 1
    return sent


# Tax attestations: the past year's is ready --------------------------------------------------

# Not on New Year's night: from 2 January, 9:00 (Paris), until the income tax returns are done.
TAX_NOTICE_OPENS = (1, 2, 9)  # month, day, hour
TAX_NOTICE_CLOSES = (6, 30)  # month, day (the last day)


def tax_notice_year(now):
    """The year whose attestations families are told about at `now`, or None outside the
    window (2 January 9:00 to 30 June)."""
    local = timezone.localtime(now, deadlines.PARIS)
    month, day, hour = TAX_NOTICE_OPENS
    if (local.month, local.day, local.hour) < (month, day, hour) or \
            (local.month, local.day) > TAX_NOTICE_CLOSES:
        return None
    return local.year - 1


def tax_notice_key(family_id, year):
    return f"tax:{year}:{family_id}"


def send_tax_attestation_notices(now=None):
    """Tell each family with an attestation de frais de garde for last year that its PDF is in
    its space, once (the key is the family and the year): families already told are left out
    before anything is computed, so the hourly run costs one query once everyone was told.
    Always sent, like a receipt: it is the family's own tax document, not news."""
    now = now or timezone.now()
    year = tax_notice_year(now)
    if year is None:
        return 0
    told = SentNotification.objects.filter(family=OuterRef("pk"), kind=Kind.TAX,
                                           key__startswith=f"tax:{year}:")
    sent = 0
    for attestation in tax_attestation.all_attestations(year, among=~Exists(told)):
        context = {"attestation": attestation,
                   "attestations_url": absolute_url(reverse("portal:tax_attestations")),
                   "pdf_url": absolute_url(reverse("portal:tax_attestation_pdf", args=[year]))}
        if notify(attestation.family, Kind.TAX, "tax_attestation_ready", context,
                  key=tax_notice_key(attestation.family.pk, year), now=now, always=True):
            sent += 1
    return sent


# Booking summaries: what changed without the family doing it, and a weekly pattern's result ---

def in_french(build):
    """The summaries' lines are written in the town's language, whatever the language of the
    page (an agent's English admin) that caused them."""
    @functools.wraps(build)
    def wrapper(*args, **kwargs):
        with translation.override(settings.LANGUAGE_CODE):
            return build(*args, **kwargs)
    return wrapper


def bookings_changed(family, subject, lines, *, key, always=False):
    """Tell the family what the town hall (or a roll-call) changed in its bookings or wallet."""
    return notify(family, Kind.BOOKINGS, "bookings_changed", {
        "subject": subject, "lines": lines,
        "planning_url": absolute_url(reverse("portal:planning")),
        "wallet_url": absolute_url(reverse("portal:wallet")),
    }, key=key, always=always)


def _what(service, day, child):
    return _("%(service)s du %(day)s pour %(child)s") % {
        "service": service.name, "day": day_label(day), "child": child.first_name}


@in_french
def booking_cancelled_by_town(booking, reason):
    child, service = booking.child, booking.service
    given = (_("Le ticket « %(type)s » vous est rendu.") if booking.refunded
             else _("Le ticket « %(type)s » n’est pas rendu.")) % {"type": service.ticket_type.name}
    line = _("La mairie a annulé la réservation : %(what)s. %(given)s") % {
        "what": _what(service, booking.date, child), "given": given}
    if reason:
        line += " " + _("Motif : %(reason)s.") % {"reason": reason}
    return bookings_changed(booking.family, _("Réservation annulée par la mairie"), [line],
                            key=f"booking_cancelled:{booking.pk}")


@in_french
def tickets_changed_by_town(entry, wallet):
    n = abs(entry.quantity)
    values = {"n": n, "type": wallet.ticket_type.name, "reason": entry.reason, "balance": wallet.balance}
    if entry.quantity > 0:
        subject = _("Tickets ajoutés par la mairie")
        line = ngettext("La mairie a ajouté %(n)d ticket « %(type)s » à votre porte-monnaie "
                        "(motif : %(reason)s).", "La mairie a ajouté %(n)d tickets « %(type)s » à "
                        "votre porte-monnaie (motif : %(reason)s).", n) % values
    else:
        subject = _("Tickets retirés par la mairie")
        line = ngettext("La mairie a retiré %(n)d ticket « %(type)s » de votre porte-monnaie "
                        "(motif : %(reason)s).", "La mairie a retiré %(n)d tickets « %(type)s » de "
                        "votre porte-monnaie (motif : %(reason)s).", n) % values
    balance = _("Solde : %(balance)d.") % values
    return bookings_changed(wallet.family, subject, [f"{line} {balance}"], key=f"ledger:{entry.pk}")


@in_french
def penalty_charged(mark, family, service, day, tickets, taken):
    """Tell `family`, the household charged (attendance._penalty_households)."""
    child = mark.child
    line = ngettext(
        "%(child)s était présent(e) sans réservation : %(what)s. Pénalité : %(n)d ticket « %(type)s ».",
        "%(child)s était présent(e) sans réservation : %(what)s. Pénalité : %(n)d tickets « %(type)s ».",
        tickets) % {"child": child.first_name, "what": _what(service, day, child), "n": tickets,
                    "type": service.ticket_type.name}
    if tickets > taken:
        line += " " + ngettext("%(n)d ticket manquant sera retenu sur votre prochain achat.",
                               "%(n)d tickets manquants seront retenus sur votre prochain achat.",
                               tickets - taken) % {"n": tickets - taken}
    return bookings_changed(family, _("Présence sans réservation"), [line],
                            key=f"penalty:{mark.pk}")


@in_french
def absence_excused(mark, service, day):
    """No reason in the e-mail: an excuse is often medical."""
    child = mark.child
    line = _("La mairie a excusé l’absence : %(what)s. Le ticket « %(type)s » vous est rendu.") % {
        "what": _what(service, day, child), "type": service.ticket_type.name}
    # The household that booked (and gets the ticket back).
    return bookings_changed(mark.booking.family, _("Absence excusée"), [line], key=f"excuse:{mark.pk}")


@in_french
def absence_reviewed(report):
    """The agent's answer to a family's absence report (the family's own reason, often medical,
    is not repeated)."""
    child, service = report.child, report.service
    what = _what(service, report.date, child)
    if report.state == report.State.ACCEPTED:
        subject = _("Absence signalée : acceptée")
        line = _("La mairie a accepté l’absence signalée : %(what)s.") % {"what": what}
        line += " " + (_("Le ticket « %(type)s » vous est rendu.") if report.refunded
                       else _("Le ticket « %(type)s » n’est pas rendu.")) % {"type": service.ticket_type.name}
    else:
        subject = _("Absence signalée : refusée")
        line = _("La mairie a refusé l’absence signalée : %(what)s.") % {"what": what}
    if report.response:
        line += " " + _("Message de la mairie : %(message)s") % {"message": report.response}
    return bookings_changed(report.family, subject, [line], key=f"absence_report:{report.pk}")


@in_french
def waitlist_place_given(booking, entry):
    """A place freed on a full day went to the child on the waiting list: booked and paid. Sent
    even to a family that switched booking summaries off: it asked for this place, and a ticket
    left its wallet without a click of its own."""
    child, service = booking.child, booking.service
    line = _("Une place s’est libérée : %(what)s est réservé(e). Un ticket « %(type)s » a été "
             "utilisé.") % {"what": _what(service, booking.date, child), "type": service.ticket_type.name}
    return bookings_changed(booking.family, _("Liste d’attente : place obtenue"), [line],
                            key=f"waitlist:{entry.pk}", always=True)


@in_french
def pattern_booked(family, result):
    """A weekly pattern's result: days booked per child, and each day not booked with why."""
    booked = {}
    for booking in result.booked:
        booked.setdefault(booking.child, []).append(booking)
    refused = {}
    for child, service, day, message in result.refused:
        refused.setdefault(child, []).append((service, day, message))
    lines = []
    for child in sorted(set(booked) | set(refused), key=lambda c: (c.first_name, c.pk)):
        values = {"child": child.first_name, "n": len(booked.get(child, [])),
                  "m": len(refused.get(child, []))}
        line = ngettext("%(n)d jour réservé pour %(child)s", "%(n)d jours réservés pour %(child)s",
                        values["n"]) % values
        if values["m"]:
            line += ngettext(", %(m)d non réservé :", ", %(m)d non réservés :", values["m"]) % values
            line += "".join(f"\n  – {day_label(day)} ({service.name}) : {message}"
                            for service, day, message in refused[child])
        lines.append(line)
    if not lines:
        return None
    return bookings_changed(family, _("Semaine type : le résultat de vos réservations"), lines,
                            key=None)


@in_french
def closure_cancelled(closure, family, bookings):
    """A closure cancelled these bookings of the family (portal/services/closures.py): the days
    per child, and the tickets given back per ticket type."""
    if closure.start == closure.end:
        when = _("le %(day)s") % {"day": day_label(closure.start)}
    else:
        when = _("du %(start)s au %(end)s") % {"start": day_label(closure.start),
                                               "end": day_label(closure.end)}
    lines = [_("La mairie a fermé l’accueil périscolaire %(when)s : %(reason)s.") % {
        "when": when, "reason": closure.reason}]
    by_child, tickets = {}, {}
    for b in sorted(bookings, key=lambda b: (b.child.first_name, b.child.pk, b.date, b.service.order)):
        by_child.setdefault(b.child, []).append(b)
        if b.refunded:
            name = b.service.ticket_type.name
            tickets[name] = tickets.get(name, 0) + 1
    for child, days in by_child.items():
        lines.append(_("Réservations annulées pour %(child)s :") % {"child": child.first_name}
                     + "".join(f"\n  – {day_label(b.date)} ({b.service.name})"
                               + ("" if b.refunded else " " + _("(ticket déjà rendu pour l’absence excusée)"))
                               for b in days))
    if tickets:
        lines.append(_("Tickets rendus dans votre porte-monnaie : %(tickets)s.") % {
            "tickets": ", ".join(ngettext("%(n)d ticket « %(type)s »", "%(n)d tickets « %(type)s »", n)
                                 % {"n": n, "type": name} for name, n in sorted(tickets.items()))})
    return bookings_changed(family, _("Fermeture : réservations annulées et tickets rendus"), lines,
                            key=f"closure:{closure.pk}:{family.pk}:{min(b.pk for b in bookings)}")


# The new school year's file (the rollover) ---------------------------------------------------

def renewal_key(year, family):
    return f"renewal:{year.pk}:{family.pk}"


@in_french
def renewal_requested(request, year, *, today=None):
    """One message per household and school year (dossier.ask_to_renew): its children at school
    in the new year (their class once the rollover moved them), those leaving, the pieces to send
    and the regulation to accept before the year's first day. Sent whatever the family's
    preferences: without it the new year's days stay closed to its bookings."""
    today = today or timezone.localdate()
    children = []
    for child in request.staying:
        if child.class_year_id == year.pk and child.school_class:
            children.append(_("%(child)s : en %(class)s à la rentrée") % {
                "child": child.first_name, "class": child.school_class})
        else:
            children.append(child.first_name)
    leaving = [_("%(child)s quitte l’école à la rentrée : aucun jour ne lui est proposé à partir "
                 "de cette date.") % {"child": child.first_name} for child in request.leaving]
    pieces = [(_("%(name)s : à renouveler") if state == FileItem.State.RENEW
               else _("%(name)s : refusé, à renvoyer") if state == FileItem.State.REFUSED
               else _("%(name)s : à fournir")) % {"name": requirement.name}
              for requirement, state in request.pieces]
    regulation = request.regulation
    if regulation is not None:
        regulation = (_("%(title)s (version %(version)s)") % {"title": regulation.title,
                                                              "version": regulation.version}
                      if regulation.version else regulation.title)
    deadline = None
    if year.start > today:
        deadline = f"{day_label(year.start)} {year.start.year}"
    path = reverse("portal:dossier")
    return notify(request.family, Kind.FILE, "renewal_requested", {
        "year": year.name, "children": children, "leaving": leaving, "pieces": pieces,
        "regulation": regulation, "deadline": deadline,
        "dossier_url": absolute_url(f"{path}#annee-{year.pk}"),
        "regulation_url": absolute_url(reverse("portal:regulation")),
    }, key=renewal_key(year, request.family), always=True)
