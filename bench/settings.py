"""Benchmark settings: production-like (DEBUG off, persistent connections) on a local PostgreSQL."""

import os

from website.settings.base import *  # noqa: F403

DEBUG = False
SECRET_KEY = "bench-only-not-secret"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.urls"
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"  # the demo data sends receipts
LOGGING = {"version": 1, "disable_existing_loggers": False,
           "root": {"handlers": [], "level": "WARNING"}}

# As in production: Redis for the cache and cached_db sessions when run.py found a redis-server.
if os.environ.get("REDIS_URL"):
    CACHES = {"default": {"BACKEND": "website.cache.RedisCache",
                          "LOCATION": os.environ["REDIS_URL"]}}
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

# As in production's web processes (website/settings/production.py, website/busy.py).
if os.environ.get("PREAU_WEB_PROCESS"):
    DATABASES["default"]["OPTIONS"] = {"options": "-c lock_timeout=5000 -c statement_timeout=20000"}  # noqa: F405
PREAU_MAX_QUEUE_SECONDS = int(os.environ.get("PREAU_MAX_QUEUE_SECONDS", "5"))
PREAU_TRUSTED_PROXIES = int(os.environ.get("PREAU_TRUSTED_PROXIES", "0"))
# bench/public_pages.py measures the public pages with their cache off (0) and on (1).
PREAU_PUBLIC_PAGE_CACHE = os.environ.get("PREAU_PUBLIC_PAGE_CACHE", "1") == "1"
