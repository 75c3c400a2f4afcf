"""The written-out SQL of Préau, all of it, and why.

Every request for a planning page runs these three query shapes: through the ORM, compiling
each cost ~1 ms, more than running it (the child lookup went 1.36 → 0.45 ms, bench/README.md
"Issue 4 follow-up"), on pages whose whole budget is a few ms. So they are written out here,
once, and only their values vary: the logged-in user (portal.backends), the children of a
guardian with their family and school, and a planning's bookings, capacity counts, balances
and waiting-list places in one round trip (UNION ALL). They only read rows; no rule is decided
here (the rules are ORM expressions and Python, each stated once: dossier.bookings_open_q,
SchoolYear.current_id, deadlines.closure_for, planning_states.day_rules). Plain EXISTS/LIMIT/
UNION ALL, so SQLite and PostgreSQL alike.

One more query is not written out but compiled once (`reused_row`): book_day's facts, an ORM
query whose file rule (dossier.bookings_open_q) nests nine subqueries. Compiled on every click
it cost ~8 ms of the click's ~22 ms (42,000 Python calls against 14,000 before it replaced its
written-out twin, bench/README.md "Issue 19: the booking click"); the SQL Django makes from the
one ORM statement of the rule is kept per process and only its values change.
"""

import datetime
from typing import NamedTuple

from django.db import connection

from portal.models import (
    Booking,
    Child,
    Family,
    School,
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
    family_id: int  # the household that booked it


class Waiting(NamedTuple):
    """A child's entry on a day's waiting list and its place in the list (1 = next)."""

    pk: int
    position: int


def user_by_id(user_model, user_id):
    """The user `user_id` (ModelBackend's per-request load, ~0.5 ms of ORM compiling, written
    out), or None."""
    loader = RowLoader.get(user_model, "u")
    table = connection.ops.quote_name(user_model._meta.db_table)
    pk = connection.ops.quote_name(user_model._meta.pk.column)
    return loader.fetch_one(f"SELECT {loader.columns} FROM {table} u WHERE u.{pk} = %s", [user_id])


def _children(family_on, where, params):
    """Children with the household they are seen by (`family_on`: the join condition of the
    family alias f) and their school, in one query; `where` may use the aliases c (child) and f.
    Each child's `household` is f; its `family` is f too unless f is its second household."""

    loaders = [RowLoader.get(Child, "c"), RowLoader.get(Family, "f"), RowLoader.get(School, "s")]
    qn = connection.ops.quote_name
    sql = (f"SELECT {', '.join(loader.columns for loader in loaders)} "
           f"FROM {qn(Child._meta.db_table)} c "
           f"INNER JOIN {qn(Family._meta.db_table)} f ON {family_on} "
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
        if family.pk == child.family_id:
            Child._meta.get_field("family").set_cached_value(child, family)
        child.seen_by(family)
        Child._meta.get_field("school").set_cached_value(child, school)
        children.append(child)
    return children


def _guardians_table():
    return connection.ops.quote_name(Family.guardians.through._meta.db_table)


def child_of_guardian(user_id, child_id):
    """The child `child_id` (household and school selected) if `user_id` is one of the guardians
    of one of its households, else None."""
    if not (isinstance(child_id, int) and 0 < child_id < 2**63):  # SQLite overflows past 64 bits
        return None
    qn = connection.ops.quote_name
    children = _children(f"f.{qn('id')} IN (c.{qn('family_id')}, c.{qn('other_family_id')})",
                         f"c.{qn('id')} = %s AND EXISTS (SELECT 1 FROM {_guardians_table()} g "
                         f"WHERE g.{qn('family_id')} = f.{qn('id')} AND g.{qn('user_id')} = %s)",
                         [child_id, user_id])
    return children[0] if children else None


def children_of_guardian(user_id):
    """The children (household and school selected, by first name) of the first family, by
    primary key, that `user_id` is a guardian of: its own and those it is the second household of.
    Which family that is mirrors services.access.family_of_guardian, the rule's home (kept in
    step by tests/portal/test_rawsql.py)."""
    qn = connection.ops.quote_name
    return _children(f"f.{qn('id')} = (SELECT g.{qn('family_id')} FROM {_guardians_table()} g "
                     f"WHERE g.{qn('user_id')} = %s ORDER BY g.{qn('family_id')} LIMIT 1)",
                     f"(c.{qn('family_id')} = f.{qn('id')} OR c.{qn('other_family_id')} = f.{qn('id')})",
                     [user_id])


def _placeholders(values):
    return ", ".join(["%s"] * len(values))


def bookings_counts_wallets(children, family_id, capped, start, end):
    """The children's active bookings (by either of their households), the day counts of
    capacity-limited services, the balances of household `family_id` and (capped) the
    children's places on its waiting lists, in one round trip (UNION ALL of up to four selects,
    told apart by the first column)."""

    qn = connection.ops.quote_name
    booking, wallet = qn(Booking._meta.db_table), qn(Wallet._meta.db_table)
    child_ids = [c.pk for c in children]
    active = Booking.Status.ACTIVE.value
    # kind, booking id, child id, service or ticket type id, date, household or count or balance
    parts = [f"SELECT 1, {qn('id')}, {qn('child_id')}, {qn('service_id')}, {qn('date')}, {qn('family_id')} "
             f"FROM {booking} WHERE {qn('child_id')} IN ({_placeholders(child_ids)}) "
             f"AND {qn('date')} BETWEEN %s AND %s AND {qn('status')} = %s",
             f"SELECT 3, {qn('id')}, NULL, {qn('ticket_type_id')}, NULL, {qn('balance')} "
             f"FROM {wallet} WHERE {qn('family_id')} = %s"]
    params = [*child_ids, start, end, active, family_id]
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
                     f"AND w.{qn('date')} BETWEEN %s AND %s AND w.{qn('status')} = %s "
                     f"AND w.{qn('family_id')} = %s")
        params += [waiting, *child_ids, start, end, waiting, family_id]
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
            bookings[(owner_id, service_id, day)] = BookedDay(pk, owner_id, service_id, day, number)
        elif kind == 2:
            taken[(service_id, day)] = number
        elif kind == 3:
            balances[service_id] = number
        else:
            waiting[(owner_id, service_id, day)] = Waiting(pk, number)
    return bookings, taken, balances, waiting


# Values a reused query is compiled with, told apart from every real value and constant: ids
# are never negative (and these fit a 32-bit column, whose lookups drop values out of range),
# and no date of Préau's is in the 11th century.
_PLACEHOLDER_ID = -1_987_654_321
_compiled = {}


def _placeholder(value, index):
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return datetime.date(1001 + index, 2, 3)
    if isinstance(value, int) and not isinstance(value, bool):
        return _PLACEHOLDER_ID - index
    raise TypeError(f"reused_row takes ids and dates, not {value!r}")


def _compile(build, values):
    """(sql, [(name or None, constant, adapt)], column names, converters) of build(**placeholders)."""
    names = sorted(values)
    placeholders = {name: _placeholder(values[name], i) for i, name in enumerate(names)}
    compiler = build(**placeholders).query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    forms = {}  # a placeholder as it appears among the parameters: itself, or adapted (SQLite dates)
    for name, value in placeholders.items():
        forms[value] = (name, False)
        if isinstance(value, datetime.date):
            adapted = connection.ops.adapt_datefield_value(value)
            if adapted != value:
                forms[adapted] = (name, True)
        if str(value) in sql:  # written into the SQL text: the query could not be reused
            raise ValueError(f"{name} is not a parameter of the reused query")
    slots, seen = [], set()
    for param in params:
        try:
            name, adapt = forms.get(param, (None, False))
        except TypeError:  # an unhashable constant (a list)
            name, adapt = None, False
        slots.append((name, param, adapt))
        seen.add(name)
    if missing := set(names) - seen:
        raise ValueError(f"{sorted(missing)} not found among the reused query's parameters")
    selected = compiler.select[:compiler.col_count]
    columns = [alias for _expression, _sql, alias in selected]
    converters = compiler.get_converters([expression for expression, _sql, _alias in selected])
    return sql, slots, columns, converters


def reused_row(key, build, **values):
    """The first row, as a dict, of the ORM query `build(**values)` (values: ids and dates),
    compiled once per process under `key` and run again with other values: the SQL is Django's,
    from the one ORM statement of the rules it reads; only the values change. `key` names the
    query's shape: anything that changes the SQL other than these values belongs in it."""
    entry = _compiled.get((key, connection.vendor))
    if entry is None:
        entry = _compiled[(key, connection.vendor)] = _compile(build, values)
    sql, slots, columns, converters = entry
    params = [constant if name is None else
              connection.ops.adapt_datefield_value(values[name]) if adapt else values[name]
              for name, constant, adapt in slots]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    row = list(row)
    for position, (functions, expression) in converters.items():
        for function in functions:
            row[position] = function(row[position], expression, connection)
    return dict(zip(columns, row, strict=True))


def set_ledger_redaction(on):
    """Tell the ledger's PostgreSQL trigger (migration 0030) whether this transaction may
    rewrite entries' reasons, and nothing else; transaction-local (`set_config(…, true)`), so
    it ends with the transaction whatever happens. Only `wallet.redact_reasons` calls it; SQLite
    has no trigger."""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('preau.ledger_redaction', %s, true)", ["on" if on else "off"])
