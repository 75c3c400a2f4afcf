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
