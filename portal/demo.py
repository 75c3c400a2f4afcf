"""Demo families, agents and planning (filled in by the portal's own work)."""


def load():
    return None
