"""Finding a family the way an agent is asked at the counter, in one box: a guardian's or a
child's name (accents and case ignored, a typo tolerated), the family's name, a phone number or
an e-mail address. The bookings listing finds children by the same names (`matching_children`).

Names are compared through `preau_search_key(text)` (lower case, accents removed). On
PostgreSQL it is an IMMUTABLE SQL function over the unaccent extension, indexed with pg_trgm GIN
indexes (migration 0017), and a typo is tolerated by trigram word similarity (`query <% key`,
pg_trgm's word_similarity_threshold, 0.6). On SQLite the same names are Python functions
registered on each connection (`register_sqlite_functions`), the typo rule by difflib.
"""

import difflib
import re
import unicodedata

from django.db.models import BooleanField, F, Func, Q, TextField, Value

PHONE = re.compile(r"[\d\s.+()/-]+")
MIN_PHONE_DIGITS = 4
MAX_QUERY = 100


def search_key(text):
    """What names are compared on: lower case, accents removed, spaces collapsed."""
    if text is None:
        return None
    decomposed = unicodedata.normalize("NFKD", text.lower().replace("œ", "oe").replace("æ", "ae"))
    return " ".join("".join(c for c in decomposed if not unicodedata.combining(c)).split())


def phone_key(text):
    """Digits only, an international French number (+33 6 …) as dialled at home (06 …)."""
    if text is None:
        return None
    digits = "".join(c for c in text if c.isdigit())
    if len(digits) == 11 and digits.startswith("33"):
        return "0" + digits[2:]
    return digits


def _fuzzy_contains(query, text):
    """SQLite's stand-in for pg_trgm's `query <% text`: every word of the query is in the text,
    or close to one of its words (one typo in a name of five letters or more)."""
    if query is None or text is None:
        return False
    words = text.split()
    for word in query.split():
        if word in text:
            continue
        if not any(difflib.SequenceMatcher(None, word, candidate).ratio() >= 0.8 for candidate in words):
            return False
    return True


def register_sqlite_functions(sender, connection, **kwargs):
    """connection_created receiver: the SQL functions of migration 0017, for SQLite."""
    if connection.vendor != "sqlite":
        return
    raw = connection.connection
    raw.create_function("preau_search_key", 1, search_key, deterministic=True)
    raw.create_function("preau_phone_key", 1, phone_key, deterministic=True)
    raw.create_function("preau_word_similar", 2, _fuzzy_contains, deterministic=True)


class SearchKey(Func):
    """preau_search_key(a || ' ' || b): the very expression the trigram indexes are built on."""

    function = "preau_search_key"
    arg_joiner = " || ' ' || "
    output_field = TextField()


class PhoneKey(Func):
    function = "preau_phone_key"
    output_field = TextField()


class WordSimilar(Func):
    """The query is close to a run of words of the key (pg_trgm `<%`, served by the GIN index)."""

    arg_joiner = " <%% "
    template = "(%(expressions)s)"
    output_field = BooleanField()

    def as_sqlite(self, compiler, connection, **extra):
        return super().as_sql(compiler, connection, template="preau_word_similar(%(expressions)s)",
                              arg_joiner=", ", **extra)


def _name_match(*fields, key):
    """Names (joined by a space) that contain the key or are close to it."""
    expression = SearchKey(*[F(f) for f in fields])
    return Q(**{f"{'_'.join(fields)}_key__contains": key}) | WordSimilar(Value(key), expression), {
        f"{'_'.join(fields)}_key": expression}


def _matching(model, *fields, key):
    condition, aliases = _name_match(*fields, key=key)
    return model.objects.alias(**aliases).filter(condition)


def search_families(queryset, query):
    """Families of `queryset` the agent's query designates (an empty query: all of them)."""
    from portal.models import Child, Family, User

    query = (query or "").strip()[:MAX_QUERY]
    if not query:
        return queryset
    guardians = Family.guardians.through.objects

    def of_guardians(users):
        return Q(pk__in=guardians.filter(user__in=users.values("pk")).values("family_id"))

    digits = phone_key(query)
    if PHONE.fullmatch(query) and len(digits) >= MIN_PHONE_DIGITS:
        users = User.objects.alias(phone_key=PhoneKey("phone")).filter(phone_key__contains=digits)
        # A subquery of its own, like the guardians': OR-ed in the outer query, the family's
        # phones would be read row by row instead of through their index.
        families = Family.objects.alias(phone_key=PhoneKey("phone"),
                                        other_key=PhoneKey("phone_secondary")).filter(
            Q(phone_key__contains=digits) | Q(other_key__contains=digits))
        return queryset.filter(Q(pk__in=families.values("pk")) | of_guardians(users))
    if "@" in query:
        return queryset.filter(of_guardians(User.objects.filter(email__icontains=query)))
    key = search_key(query)
    return queryset.filter(
        Q(pk__in=_matching(Family, "name", key=key).values("pk"))
        | of_guardians(_matching(User, "first_name", "last_name", key=key))
        # Apart from the names: OR-ed with them, it would keep PostgreSQL off their index.
        | of_guardians(User.objects.filter(email__icontains=query))
        # A child's name finds both its households (separated parents).
        | Q(pk__in=_matching(Child, "first_name", "last_name", key=key).values("family_id"))
        | Q(pk__in=_matching(Child, "first_name", "last_name", key=key).values("other_family_id")))



def matching_children(query):
    """The pks of the children whose name or one of whose households' names (the family's, or
    the second household's of separated parents) the query designates, compared like the
    families' (accents, case, a typo); None for an empty query. Subqueries in a UNION: OR-ed,
    PostgreSQL guessed 3,755 children where 127 matched and read a year of bookings."""
    from portal.models import Child, Family

    key = search_key((query or "").strip()[:MAX_QUERY])
    if not key:
        return None
    by_name = _matching(Child, "first_name", "last_name", key=key)
    families = _matching(Family, "name", key=key).values("pk")
    by_family = Child.objects.filter(family__in=families)
    by_other = Child.objects.filter(other_family__in=families)
    return by_name.order_by().values("pk").union(by_family.order_by().values("pk"),
                                                  by_other.order_by().values("pk"))
