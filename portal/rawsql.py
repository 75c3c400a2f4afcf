"""Model instances from hand-written SQL, for the few queries every portal request runs."""

from django.db import connection


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
