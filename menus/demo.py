"""Demo data for this app (filled in by its own work)."""


def load():
    return None
