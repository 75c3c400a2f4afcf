"""The written-out SQL of Préau, all of it, and why.

The planning pages and the booking click run the same few query shapes on every request:
through the ORM, compiling them cost more than running them (~1 ms each against ~0.2–0.4 ms
for the query, bench/README.md "What was done"), on pages whose whole budget is a few ms. So
these shapes are written out here, once, and only their values vary: the children of a
guardian with their family and school; a planning's bookings, capacity counts and balances in
one round trip; whether a family's file opens bookings; and the facts book_day reads under its
locks. Plain EXISTS/LIMIT/UNION ALL, so SQLite and PostgreSQL alike. Everything else uses the
ORM; the rules these facts feed are decided in Python, once (planning_states.day_rules).
"""

import datetime
from typing import NamedTuple

from django.db import connection
from django.utils import timezone

from documents.models import PreauDocument
from portal.models import (
    Booking,
    Child,
    Closure,
    Family,
    FileItem,
    FileRequirement,
    RegulationAcceptance,
    School,
    SchoolYear,
    Service,
    WaitlistEntry,
    Wallet,
)


class RowLoader:
    """Builds model instances from hand-written SQL rows, with the same database converters the
    ORM applies (SQLite returns dates as text, booleans as 0/1). The planning pages run the same
    few query shapes on every request; compiling them through the ORM cost more than the query
    itself (~1 ms each), so their SQL is written out and only the values vary."""

    _cache = {}

    def __init__(self, model, alias):
        self.model = model
        fields = model._meta.concrete_fields
        qn = connection.ops.quote_name
        self.attnames = [f.attname for f in fields]
        self.columns = ", ".join(f"{alias}.{qn(f.column)}" for f in fields)
        self.converters = []
        for i, field in enumerate(fields):
            col = field.get_col(alias)
            funcs = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
            if funcs:
                self.converters.append((i, col, funcs))

    @classmethod
    def get(cls, model, alias):
        key = (model, alias, connection.vendor)
        if key not in cls._cache:
            cls._cache[key] = cls(model, alias)
        return cls._cache[key]

    def __len__(self):
        return len(self.attnames)

    def build(self, values):
        values = list(values)
        for i, col, funcs in self.converters:
            for func in funcs:
                values[i] = func(values[i], col, connection)
        return self.model.from_db(connection.alias, self.attnames, values)

    def fetch_one(self, sql, params):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        return None if row is None else self.build(row)


class BookedDay(NamedTuple):
    """An active booking as the planning shows it: a family month has hundreds, and model
    instances (with their init signals) cost ~30 µs each."""

    pk: int
    child_id: int
    service_id: int
    date: datetime.date


class Waiting(NamedTuple):
    """A child's entry on a day's waiting list and its place in the list (1 = next)."""

    pk: int
    position: int


def _children(where, params):
    """Children with their family and school selected, in one query; `where` may use the
    aliases c (child) and g (the family's guardians)."""

    loaders = [RowLoader.get(Child, "c"), RowLoader.get(Family, "f"), RowLoader.get(School, "s")]
    qn = connection.ops.quote_name
    sql = (f"SELECT {', '.join(loader.columns for loader in loaders)} "
           f"FROM {qn(Child._meta.db_table)} c "
           f"INNER JOIN {qn(Family._meta.db_table)} f ON f.{qn('id')} = c.{qn('family_id')} "
           f"INNER JOIN {qn(School._meta.db_table)} s ON s.{qn('id')} = c.{qn('school_id')} "
           f"WHERE {where} ORDER BY c.{qn('first_name')}, c.{qn('id')}")
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    children = []
    for row in rows:
        parts, start = [], 0
        for loader in loaders:
            parts.append(loader.build(row[start:start + len(loader)]))
            start += len(loader)
        child, family, school = parts
        Child._meta.get_field("family").set_cached_value(child, family)
        Child._meta.get_field("school").set_cached_value(child, school)
        children.append(child)
    return children


def _guardians_table():
    return connection.ops.quote_name(Family.guardians.through._meta.db_table)


def child_of_guardian(user_id, child_id):
    """The child `child_id` (family and school selected) if `user_id` is one of the family's
    guardians, else None."""
    if not (isinstance(child_id, int) and 0 < child_id < 2**63):  # SQLite overflows past 64 bits
        return None
    qn = connection.ops.quote_name
    children = _children(f"c.{qn('id')} = %s AND EXISTS (SELECT 1 FROM {_guardians_table()} g "
                         f"WHERE g.{qn('family_id')} = c.{qn('family_id')} AND g.{qn('user_id')} = %s)",
                         [child_id, user_id])
    return children[0] if children else None


def children_of_guardian(user_id):
    """The children (family and school selected, by first name) of the first family, by primary
    key, that `user_id` is a guardian of."""
    qn = connection.ops.quote_name
    return _children(f"c.{qn('family_id')} = (SELECT g.{qn('family_id')} FROM {_guardians_table()} g "
                     f"WHERE g.{qn('user_id')} = %s ORDER BY g.{qn('family_id')} LIMIT 1)", [user_id])


def _placeholders(values):
    return ", ".join(["%s"] * len(values))


def bookings_counts_wallets(children, capped, start, end):
    """The children's active bookings, the day counts of capacity-limited services, the
    families' balances and (capped) the children's places on waiting lists, in one round trip
    (UNION ALL of up to four selects, told apart by the first column)."""

    qn = connection.ops.quote_name
    booking, wallet = qn(Booking._meta.db_table), qn(Wallet._meta.db_table)
    child_ids = [c.pk for c in children]
    family_ids = sorted({c.family_id for c in children})
    active = Booking.Status.ACTIVE.value
    # kind, booking id, child or family id, service or ticket type id, date, count or balance
    parts = [f"SELECT 1, {qn('id')}, {qn('child_id')}, {qn('service_id')}, {qn('date')}, NULL "
             f"FROM {booking} WHERE {qn('child_id')} IN ({_placeholders(child_ids)}) "
             f"AND {qn('date')} BETWEEN %s AND %s AND {qn('status')} = %s",
             f"SELECT 3, {qn('id')}, {qn('family_id')}, {qn('ticket_type_id')}, NULL, {qn('balance')} "
             f"FROM {wallet} WHERE {qn('family_id')} IN ({_placeholders(family_ids)})"]
    params = [*child_ids, start, end, active, *family_ids]
    if capped:
        parts.append(f"SELECT 2, NULL, NULL, {qn('service_id')}, {qn('date')}, COUNT(*) FROM {booking} "
                     f"WHERE {qn('service_id')} IN ({_placeholders(capped)}) "
                     f"AND {qn('date')} BETWEEN %s AND %s AND {qn('status')} = %s "
                     f"GROUP BY {qn('service_id')}, {qn('date')}")
        params += [*capped, start, end, active]
        # A child's place on a day's waiting list: entries still waiting up to its own.
        waitlist, waiting = qn(WaitlistEntry._meta.db_table), WaitlistEntry.Status.WAITING.value
        parts.append(f"SELECT 4, w.{qn('id')}, w.{qn('child_id')}, w.{qn('service_id')}, w.{qn('date')}, "
                     f"(SELECT COUNT(*) FROM {waitlist} v WHERE v.{qn('service_id')} = w.{qn('service_id')} "
                     f"AND v.{qn('date')} = w.{qn('date')} AND v.{qn('status')} = %s "
                     f"AND v.{qn('id')} <= w.{qn('id')}) FROM {waitlist} w "
                     f"WHERE w.{qn('child_id')} IN ({_placeholders(child_ids)}) "
                     f"AND w.{qn('date')} BETWEEN %s AND %s AND w.{qn('status')} = %s")
        params += [waiting, *child_ids, start, end, waiting]
    date_field = Booking._meta.get_field("date")
    date_col = date_field.get_col(booking)
    to_date = connection.ops.get_db_converters(date_col) + date_col.get_db_converters(connection)
    with connection.cursor() as cursor:
        cursor.execute(" UNION ALL ".join(parts), params)
        rows = cursor.fetchall()
    bookings, taken, balances, waiting = {}, {}, {}, {}
    for kind, pk, owner_id, service_id, day, number in rows:
        for func in to_date:
            day = func(day, date_col, connection)
        if kind == 1:
            bookings[(owner_id, service_id, day)] = BookedDay(pk, owner_id, service_id, day)
        elif kind == 2:
            taken[(service_id, day)] = number
        elif kind == 3:
            balances[(owner_id, service_id)] = number
        else:
            waiting[(owner_id, service_id, day)] = Waiting(pk, number)
    return bookings, taken, balances, waiting


def bookings_open_sql(family_id, today=None):
    """bookings_open as one SQL expression (1 or 0) with its parameters, so book_day can read it
    under its wallet lock in the same round trip as its other rules. The family's status is
    read from its row, not from an instance."""
    today = today or timezone.localdate()
    qn = connection.ops.quote_name

    def table(model):
        return qn(model._meta.db_table)

    # SchoolYear.current(): the running or next year, else the latest one.
    year = (f"COALESCE((SELECT y.{qn('id')} FROM {table(SchoolYear)} y WHERE y.{qn('end')} >= %s "
            f"ORDER BY y.{qn('start')} LIMIT 1), (SELECT y.{qn('id')} FROM {table(SchoolYear)} y "
            f"ORDER BY y.{qn('start')} DESC LIMIT 1))")
    regulation = (f"(SELECT d.{qn('id')} FROM {table(PreauDocument)} d WHERE d.{qn('kind')} = %s "
                  f"ORDER BY d.{qn('publication_date')} DESC, d.{qn('id')} DESC LIMIT 1)")
    # A requirement blocks when the regulation is not accepted in its current version, or when
    # an upload has no item, or an item still missing or refused (missing_for_bookings).
    blocking = (f"SELECT 1 FROM {table(FileRequirement)} r WHERE r.{qn('school_year_id')} = {year} AND ("
                f"(r.{qn('kind')} = %s AND NOT EXISTS (SELECT 1 FROM {table(RegulationAcceptance)} a "
                f"WHERE a.{qn('family_id')} = %s AND a.{qn('document_id')} = {regulation}) "
                # regulation_grace: an earlier version accepted, the grace date not passed.
                f"AND NOT EXISTS (SELECT 1 FROM {table(RegulationAcceptance)} a2, "
                f"{table(PreauDocument)} g WHERE a2.{qn('family_id')} = %s AND g.{qn('id')} = "
                f"{regulation} AND g.{qn('acceptance_grace_until')} >= %s)) "
                f"OR (r.{qn('kind')} <> %s AND NOT EXISTS (SELECT 1 FROM {table(FileItem)} i "
                f"WHERE i.{qn('family_id')} = %s AND i.{qn('requirement_id')} = r.{qn('id')} "
                f"AND i.{qn('state')} NOT IN (%s, %s))))")
    sql = (f"CASE WHEN (SELECT f.{qn('status')} FROM {table(Family)} f WHERE f.{qn('id')} = %s) = %s "
           f"AND EXISTS (SELECT 1 FROM {table(Child)} c WHERE c.{qn('family_id')} = %s) "
           f"AND NOT EXISTS ({blocking}) THEN 1 ELSE 0 END")
    regulation_kind = FileRequirement.Kind.REGULATION.value
    params = [family_id, Family.Status.VALIDATED.value, family_id,
              connection.ops.adapt_datefield_value(today),
              regulation_kind, family_id, PreauDocument.Kind.REGULATION.value,
              family_id, PreauDocument.Kind.REGULATION.value, connection.ops.adapt_datefield_value(today),
              regulation_kind, family_id, FileItem.State.MISSING.value, FileItem.State.REFUSED.value]
    return sql, params


def day_facts(child, service, day, capped):
    """What book_day reads from the database for one day, in one round trip taken under its
    locks: whether the family's file opens bookings, whether the child's sheet still awaits an
    agent's review, whether the service serves the child's school, the first closure covering
    the day as "kind:reason" (or None), whether the day is already booked, whether the child
    waits on the day's waiting list, and (capped) the active bookings of the service that day. Raw SQL for the
    reason given at the top of this module."""
    qn = connection.ops.quote_name
    open_sql, open_params = bookings_open_sql(child.family_id)
    # The child's school as stored, like every other fact here.
    school = f"(SELECT s.{qn('school_id')} FROM {qn(Child._meta.db_table)} s WHERE s.{qn('id')} = %s)"
    links = qn(Service.schools.through._meta.db_table)
    closures, bookings = qn(Closure._meta.db_table), qn(Booking._meta.db_table)
    date = connection.ops.adapt_datefield_value(day)
    active = Booking.Status.ACTIVE.value
    count = (f"(SELECT COUNT(*) FROM {bookings} b WHERE b.{qn('service_id')} = %s "
             f"AND b.{qn('date')} = %s AND b.{qn('status')} = %s)") if capped else "NULL"
    children = qn(Child._meta.db_table)
    sql = (f"SELECT {open_sql}, "
           f"EXISTS (SELECT 1 FROM {children} r WHERE r.{qn('id')} = %s "
           f"AND r.{qn('reviewed_at')} IS NULL), "
           f"EXISTS (SELECT 1 FROM {links} l WHERE l.{qn('service_id')} = %s "
           f"AND l.{qn('school_id')} = {school}), "
           f"(SELECT c.{qn('kind')} || ':' || c.{qn('reason')} FROM {closures} c WHERE c.{qn('start')} <= %s "
           f"AND c.{qn('end')} >= %s AND (c.{qn('school_id')} IS NULL OR c.{qn('school_id')} = {school}) "
           f"AND (c.{qn('service_id')} IS NULL OR c.{qn('service_id')} = %s) "
           f"ORDER BY c.{qn('start')}, c.{qn('id')} LIMIT 1), "
           f"EXISTS (SELECT 1 FROM {bookings} b WHERE b.{qn('child_id')} = %s "
           f"AND b.{qn('service_id')} = %s AND b.{qn('date')} = %s AND b.{qn('status')} = %s), "
           f"EXISTS (SELECT 1 FROM {qn(WaitlistEntry._meta.db_table)} w WHERE w.{qn('child_id')} = %s "
           f"AND w.{qn('service_id')} = %s AND w.{qn('date')} = %s AND w.{qn('status')} = %s), "
           f"{count}")
    params = [*open_params, child.pk, service.pk, child.pk, date, date, child.pk, service.pk,
              child.pk, service.pk, date, active,
              child.pk, service.pk, date, WaitlistEntry.Status.WAITING.value]
    if capped:
        params += [service.pk, date, active]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        is_open, unreviewed, serves, closure, already, waiting, taken = cursor.fetchone()
    return DayFactsRow(bool(is_open), bool(unreviewed), bool(serves), closure, bool(already),
                       bool(waiting), taken)


class DayFactsRow(NamedTuple):
    is_open: bool
    unreviewed: bool
    serves: bool
    closure: str | None
    already: bool
    waiting: bool
    taken: int | None
