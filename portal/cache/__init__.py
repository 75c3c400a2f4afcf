"""The only caches of family data: display_cache, cached reads and the version
counters that invalidate them; page_cache, rendered planning pages kept while those counters
stand still. Services and views use them; they import only models (inside functions)."""
