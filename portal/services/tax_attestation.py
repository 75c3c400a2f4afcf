"""Attestations de frais de garde (crédit d'impôt, article 200 quater B du CGI).

For each child under 6 on 1 January of a year, what the family paid for the eligible care
services (`Service.childcare_tax_credit`) the child used that year. How tickets are priced and
what is left out (unused tickets, tickets given back, refunds, penalties, town-hall credits) is
docs/tax-attestation.md; this module is the one place that computes it.

A ticket's price is found by following the family's wallet in ledger order: tickets are used
oldest first, each keeps the purchase it came from, and a purchase's price is what the town
kept of it (paid minus refunded) spread over its tickets that were not refunded.
"""

import csv
import datetime
import io
import zipfile
from collections import defaultdict, deque
from dataclasses import dataclass, field

from django.db.models import Prefetch, Q
from django.utils import timezone
from django.utils.html import escape
from django.utils.translation import gettext as _

from documents.pdf import simple_pdf
from portal.models import Child, Family, LedgerEntry, Purchase, Refund, Service, User
from portal.money import euros
from portal.services import deadlines
from portal.services.town import town_settings

# Families read per round of queries in the agents' bulk export: memory stays bounded and the
# number of queries grows with the number of rounds, never with the rows.
BATCH = 200
# Before Préau existed: an older year in a URL is simply not found.
FIRST_YEAR = 2000


def first_birth_date(year):
    """Children born on or after this day are "under 6 on 1 January" of `year`, as the tax
    administration counts them (for 2026: born in 2020 or later)."""
    return datetime.date(year - 6, 1, 1)


def child_is_eligible(birth_date, year):
    return birth_date is not None and first_birth_date(year) <= birth_date <= datetime.date(year, 12, 31)


def today_in_paris(now=None):
    return timezone.localtime(now or timezone.now(), deadlines.PARIS).date()


def is_available(year, today):
    """A family gets a year's attestation from the next 1 January."""
    return year < today.year


def provisional_note(year):
    """What a family is told of a year not over: its amounts so far, and when the PDF comes (the
    web page's text, and the API's refusal of the PDF)."""
    return _("Montants à ce jour, provisoires : l’attestation %(year)s sera disponible le 1er janvier "
             "%(next)s.") % {"year": year, "next": year + 1}


@dataclass
class ChildLine:
    child_id: int
    first_name: str
    last_name: str
    birth_date: datetime.date
    days: int
    cents: int

    @property
    def amount(self):
        return euros(self.cents)

    @property
    def name(self):
        return f"{self.first_name} {self.last_name}".strip()


@dataclass
class Attestation:
    year: int
    family: Family
    guardians: list
    children: list = field(default_factory=list)

    @property
    def total_cents(self):
        return sum(line.cents for line in self.children)

    @property
    def total(self):
        return euros(self.total_cents)


# ---------------------------------------------------------------------------------------------
# Pricing the tickets used


def _eligible_services():
    return dict(Service.objects.filter(childcare_tax_credit=True).values_list("pk", "ticket_type_id"))


def _entries(family_ids, ticket_type_ids):
    """Every ledger entry of these families' wallets of these ticket types, in ledger order,
    with what each debit or given-back ticket was for (one query)."""
    return (LedgerEntry.objects.order_by()
            .filter(wallet__family_id__in=family_ids, wallet__ticket_type_id__in=ticket_type_ids)
            .values_list("pk", "wallet_id", "wallet__family_id", "kind", "quantity", "booking_id",
                         "booking__child_id", "booking__service_id", "booking__date",
                         "attendance_id", "attendance__booking_id", "attendance__child_id",
                         "attendance__roll_call__service_id", "attendance__roll_call__date")
            .order_by("wallet_id", "pk"))


def _price_wallet(rows, credits, kept, refunds):
    """{consumer: cents} for one wallet's entries (ledger order). A consumer is ("b", booking
    id), ("p", roll-call mark id, n) for the n-th penalty ticket of a mark, or ("x", entry id, n)
    for tickets an agent withdrew; its cents are the price of the ticket it used."""
    kind = LedgerEntry.Kind
    queue = deque()  # the wallet's tickets, oldest first: the purchase each came from, or None
    used = defaultdict(dict)  # purchase (or None) → its consumers, in order of use
    source = {}  # consumer → purchase
    penalties = defaultdict(int)  # roll-call mark → penalty tickets taken so far

    def take(consumer, tag):
        used[tag][consumer] = None
        source[consumer] = tag

    for row in rows:
        pk, entry_kind, quantity, booking_id, mark_id, mark_booking_id = (
            row[0], row[3], row[4], row[5], row[9], row[10])
        if quantity > 0:
            if entry_kind == kind.PURCHASE:
                queue.extend([credits.get(pk)] * quantity)
            elif entry_kind in (kind.CANCELLATION, kind.EXCUSE):
                # The ticket given back is the one the booking used, at its price, next in line.
                consumer = ("b", booking_id if entry_kind == kind.CANCELLATION else mark_booking_id)
                tag = source.pop(consumer, None)
                used[tag].pop(consumer, None)
                queue.extendleft([tag] * quantity)
            else:  # a town-hall credit: nothing was paid for these tickets
                queue.extend([None] * quantity)
        elif entry_kind == kind.BOOKING:
            take(("b", booking_id), queue.popleft() if queue else None)
        elif entry_kind == kind.PENALTY:
            for _i in range(-quantity):
                penalties[mark_id] += 1
                take(("p", mark_id, penalties[mark_id]), queue.popleft() if queue else None)
        elif pk in refunds:
            _remove_refunded(queue, used, source, refunds[pk], -quantity)
        else:
            # An agent's withdrawal (usually correcting a credit just made): the newest tickets.
            for i in range(min(-quantity, len(queue))):
                take(("x", pk, i), queue.pop())
    prices = {}
    for tag, consumers in used.items():
        kept_cents, kept_tickets = kept.get(tag, (0, 0))
        base, extra = divmod(kept_cents, kept_tickets) if kept_tickets else (0, 0)
        for i, consumer in enumerate(consumers):
            prices[consumer] = base + (1 if i < extra else 0)
    return prices


def _remove_refunded(queue, used, source, purchase_id, n):
    """A refund takes back its purchase's own tickets still in the wallet (newest first). If
    some were already used, the wallet's newest tickets go instead, and the purchase's latest
    uses are counted as those tickets' (the tickets are alike; the money follows them)."""
    keep = deque()
    while queue and n:
        tag = queue.pop()
        if tag == purchase_id:
            n -= 1
        else:
            keep.appendleft(tag)
    queue.extend(keep)
    while queue and n:
        other = queue.pop()
        n -= 1
        if used[purchase_id]:
            consumer = next(reversed(used[purchase_id]))
            del used[purchase_id][consumer]
            used[other][consumer] = None
            source[consumer] = other


def _amounts(family_ids, services, year=None):
    """{family id: {year: {child id: [days, cents]}}} for the eligible services' uses (of
    `year` only, if given)."""
    if not services:
        return {}
    credits, kept = {}, {}
    for pk, entry_id, amount, refunded, quantity, refunded_quantity in (
            Purchase.objects.order_by().filter(family_id__in=family_ids, state=Purchase.State.PAID)
            .values_list("pk", "ledger_entry_id", "amount_cents", "refunded_cents", "quantity",
                         "refunded_quantity")):
        credits[entry_id] = pk
        kept[pk] = (amount - refunded, quantity - refunded_quantity)
    refunds = dict(Refund.objects.order_by().filter(purchase__family_id__in=family_ids,
                                                    ledger_entry__isnull=False)
                   .values_list("ledger_entry_id", "purchase_id"))
    by_wallet = defaultdict(list)
    for row in _entries(family_ids, set(services.values())):
        by_wallet[row[1]].append(row)
    out = defaultdict(lambda: defaultdict(dict))
    for rows in by_wallet.values():
        # What each consumer was for: (child, service, day) of its booking or roll-call mark.
        what = {}
        for row in rows:
            if row[3] == LedgerEntry.Kind.BOOKING:
                what[("b", row[5])] = row[6:9]
            elif row[3] == LedgerEntry.Kind.PENALTY:
                what[("p", row[9])] = row[11:14]
        years, days = out[rows[0][2]], defaultdict(set)
        for consumer, cents in _price_wallet(rows, credits, kept, refunds).items():
            child_id, service_id, day = what.get(consumer[:2], (None, None, None))
            if service_id not in services or (year is not None and day.year != year):
                continue
            years[day.year].setdefault(child_id, [0, 0])[1] += cents
            days[day.year, child_id].add((service_id, day))
        for (day_year, child_id), seen in days.items():
            years[day_year][child_id][0] += len(seen)
    return out


# ---------------------------------------------------------------------------------------------
# Attestations


def _build(families, services, year=None):
    """Attestations of these families (guardians prefetched), of `year` or of every year with
    something to attest (newest first), in one round of queries."""
    amounts = _amounts([f.pk for f in families], services, year)
    years = {y for by_year in amounts.values() for y in by_year}
    if not years:
        return []
    children = defaultdict(list)
    # A child of two households is on each one's attestation, for what that household paid.
    households = Q(family_id__in=list(amounts)) | Q(other_family_id__in=list(amounts))
    for child in (Child.objects.order_by("birth_date", "first_name", "pk")
                  .filter(households, birth_date__gte=first_birth_date(min(years)),
                          birth_date__lte=datetime.date(max(years), 12, 31))):
        for family_id in child.households():
            children[family_id].append(child)
    out = []
    for family in families:
        guardians = None
        for y in sorted(amounts.get(family.pk, {}), reverse=True):
            lines = []
            for child in children[family.pk]:
                days, cents = amounts[family.pk][y].get(child.pk, (0, 0))
                if cents and child_is_eligible(child.birth_date, y):
                    lines.append(ChildLine(child.pk, child.first_name, child.last_name,
                                           child.birth_date, days, cents))
            if lines:
                guardians = guardians or [g.get_full_name() or g.email for g in family.guardians.all()]
                out.append(Attestation(y, family, guardians, lines))
    return out


def _with_guardians(queryset):
    return queryset.prefetch_related(Prefetch("guardians", queryset=User.objects.order_by("pk")))


def family_attestation(family, year):
    """The family's attestation for `year`, or None when no eligible child used an eligible
    service that year."""
    family = _with_guardians(Family.objects.filter(pk=family.pk)).get()
    found = _build([family], _eligible_services(), year)
    return found[0] if found else None


def family_attestations(family, today):
    """The family's attestations of every year with something to attest up to today's, newest
    first (the current year, still running, included), in the same queries as one year's."""
    family = _with_guardians(Family.objects.filter(pk=family.pk)).get()
    return [a for a in _build([family], _eligible_services()) if a.year <= today.year]


def all_attestations(year, among=None):
    """Every family's attestation for `year`, in family order, read BATCH families at a time;
    `among`: a filter on the families (Q), to leave some out."""
    services = _eligible_services()
    if not services:
        return
    born = (first_birth_date(year), datetime.date(year, 12, 31))
    candidates = (Family.objects.filter(Q(children__birth_date__range=born)
                                        | Q(shared_children__birth_date__range=born))
                  .filter(among or Q()).distinct().order_by("pk"))
    last = 0
    while True:
        batch = list(_with_guardians(Family.objects.filter(
            pk__in=list(candidates.filter(pk__gt=last).values_list("pk", flat=True)[:BATCH])))
            .order_by("pk"))
        if not batch:
            return
        last = batch[-1].pk
        yield from _build(batch, services, year)
        if len(batch) < BATCH:
            return


# ---------------------------------------------------------------------------------------------
# Documents


def _town_lines(town):
    name = getattr(town, "town_name", "") or ""
    lines = [f"<b>{escape(name)}</b>"]
    address = getattr(town, "town_hall_address", "") or ""
    lines += [escape(line) for line in address.splitlines() if line.strip()]
    siret = getattr(town, "siret", "") or ""
    lines.append(_("SIRET : %(s)s") % {"s": escape(siret) if siret else _("non renseigné")})
    contact = " · ".join(v for v in (getattr(town, "town_hall_phone", ""),
                                     getattr(town, "town_hall_email", "")) if v)
    if contact:
        lines.append(escape(contact))
    return name, lines


def attestation_pdf(attestation, *, today):
    town_name, town_lines = _town_lines(town_settings())
    family = attestation.family
    year = attestation.year
    family_lines = [escape(family.name)]
    family_lines += [_("Responsable : %(n)s") % {"n": escape(name)} for name in attestation.guardians]
    address = " ".join(part for part in (family.address, family.postcode, family.city) if part)
    if address:
        family_lines.append(escape(address))
    child_lines = []
    for line in attestation.children:
        child_lines.append(_("%(name)s, né(e) le %(birth)s : %(days)d jour(s) de garde, "
                             "<b>%(amount)s</b>") % {
            "name": escape(line.name), "birth": f"{line.birth_date:%d/%m/%Y}", "days": line.days,
            "amount": line.amount})
    child_lines.append(_("Total payé pour la garde en %(year)d : <b>%(total)s</b>")
                       % {"year": year, "total": attestation.total})
    notes = [
        _("Sommes payées pour la garde hors du domicile, pendant l’année %(year)d, des enfants de moins "
          "de 6 ans au 1er janvier %(year)d (nés à partir du 1er janvier %(born)d), au titre du crédit "
          "d’impôt pour frais de garde (article 200 quater B du code général des impôts) : accueil "
          "périscolaire (garderie, accueil du mercredi). Les repas sont exclus.")
        % {"year": year, "born": year - 6},
        _("Montants des tickets utilisés pendant l’année, au prix payé, remboursements déduits ; les "
          "tickets non utilisés, rendus ou offerts par la mairie ne sont pas comptés."),
        _("Un montant par enfant, à reporter dans les cases 7GA à 7GC de la déclaration de revenus."),
        _("Établie le %(date)s.") % {"date": f"{today:%d/%m/%Y}"},
    ]
    if not is_available(year, today):
        notes.insert(0, _("<b>Provisoire</b> : l’année %(year)d n’est pas terminée.") % {"year": year})
    sections = [(_("Organisme"), town_lines), (_("Famille"), family_lines),
                (_("Enfants gardés"), child_lines), (_("Mentions"), notes)]
    return simple_pdf(_("Attestation de frais de garde — année %(year)d") % {"year": year}, sections,
                      author=town_name)


def attestation_filename(attestation):
    return f"attestation-frais-de-garde-{attestation.year}-famille-{attestation.family.pk}.pdf"


class _Sink:
    """A write-only stream whose bytes are taken after each file: the ZIP is sent as it is made."""

    def __init__(self):
        self.chunks = []

    def write(self, data):
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self):
        pass

    def take(self):
        data, self.chunks = b"".join(self.chunks), []
        return data


def attestations_zip(year, *, today):
    """The ZIP of every family's PDF for `year`, as chunks (one per family)."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for attestation in all_attestations(year):
            archive.writestr(attestation_filename(attestation), attestation_pdf(attestation, today=today))
            yield sink.take()
    yield sink.take()


def _cell(text):
    """A spreadsheet must not read a family's name as a formula."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@") else text


SUMMARY_HEADERS = ["famille_id", "famille", "responsables", "enfant", "date_naissance", "jours",
                   "montant_euros", "fichier"]


def summary_csv(year):
    """One line per child (semicolon-separated, UTF-8 with BOM for spreadsheet software), as
    chunks: the agents' check list of what the PDFs say."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";")
    buffer.write("\ufeff")
    writer.writerow(SUMMARY_HEADERS)
    for attestation in all_attestations(year):
        for line in attestation.children:
            writer.writerow([attestation.family.pk, _cell(attestation.family.name),
                             _cell(", ".join(attestation.guardians)), _cell(line.name),
                             f"{line.birth_date:%d/%m/%Y}", line.days,
                             euros(line.cents).replace("\u00a0", " ").removesuffix(" €"),
                             attestation_filename(attestation)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
    yield buffer.getvalue()
