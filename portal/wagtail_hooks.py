from portal.admin import planning  # noqa: F401  (registers the planning back office)
