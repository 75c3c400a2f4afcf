"""Money is integer cents; this is the one place it becomes text."""


def euros(cents):
    """1234 → '12,34 €' (French formatting, never through float)."""
    sign = "-" if cents < 0 else ""
    cents = abs(cents)
    return f"{sign}{cents // 100},{cents % 100:02d} €"
