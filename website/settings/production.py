"""Production: every value comes from the environment; start-up fails if a required one is missing."""

import dj_database_url

from .base import *  # noqa: F403
from .env import env, env_bool, env_int, env_list

DEBUG = False
SECRET_KEY = env("SECRET_KEY", required=True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
if not ALLOWED_HOSTS:
    from django.core.exceptions import ImproperlyConfigured

    raise ImproperlyConfigured("The environment variable ALLOWED_HOSTS is required.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [f"https://{h}" for h in ALLOWED_HOSTS])

DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", required=True),
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}

# In the web processes (website/wsgi.py marks them), a request that cannot get a row lock within
# PREAU_DB_LOCK_TIMEOUT_MS, or one statement running past PREAU_DB_STATEMENT_TIMEOUT_MS (below
# gunicorn's 30 s worker timeout), fails whole and is answered « réessayez dans un instant »
# (website/busy.py) instead of queueing everyone behind it. Commands and the worker may wait.
# Behind pgbouncer in transaction mode, set them on the role instead (docs/deployment.md).
DB_LOCK_TIMEOUT_MS = env_int("PREAU_DB_LOCK_TIMEOUT_MS", 5_000)
DB_STATEMENT_TIMEOUT_MS = env_int("PREAU_DB_STATEMENT_TIMEOUT_MS", 20_000)
# Behind pgbouncer in transaction mode (docs/deployment.md §10) a server connection serves
# another client after each transaction: no server-side cursors (.iterator()), no prepared
# statements kept by psycopg, and no per-connection settings (pgbouncer does not pass them on).
PGBOUNCER = env_bool("PREAU_PGBOUNCER", False)
if PGBOUNCER:
    DATABASES["default"]["DISABLE_SERVER_SIDE_CURSORS"] = True
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = None
elif env_bool("PREAU_WEB_PROCESS", False) and DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = (
        f"-c lock_timeout={DB_LOCK_TIMEOUT_MS} -c statement_timeout={DB_STATEMENT_TIMEOUT_MS}")
PREAU_MAX_QUEUE_SECONDS = env_int("PREAU_MAX_QUEUE_SECONDS", 5)

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    CACHES = {"default": {"BACKEND": "website.cache.RedisCache",
                          "LOCATION": REDIS_URL}}
    # Read from Redis, written through to the database: a Redis restart or eviction logs nobody out.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Media on S3-compatible storage (docs/deployment.md §6) instead of MEDIA_ROOT and
# PRIVATE_MEDIA_ROOT, so that app servers share no disk: public images in PREAU_S3_BUCKET,
# private files in PREAU_S3_PRIVATE_BUCKET, never public (website/storage.py).
S3_BUCKET = env("PREAU_S3_BUCKET")
if S3_BUCKET:
    _s3 = {
        "endpoint_url": env("PREAU_S3_ENDPOINT_URL"),  # e.g. https://s3.fr-par.scw.cloud
        "region_name": env("PREAU_S3_REGION"),
        "access_key": env("PREAU_S3_ACCESS_KEY_ID", required=True),
        "secret_key": env("PREAU_S3_SECRET_ACCESS_KEY", required=True),
        "file_overwrite": False,
    }
    STORAGES["default"] = {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": {
        **_s3, "bucket_name": S3_BUCKET, "querystring_auth": False,
        "custom_domain": env("PREAU_S3_PUBLIC_DOMAIN")}}  # a CDN or the bucket's public host
    STORAGES["private"] = {"BACKEND": "website.storage.PrivateS3Storage", "OPTIONS": {
        **_s3, "bucket_name": env("PREAU_S3_PRIVATE_BUCKET", required=True)}}

# Behind the documented reverse proxy (docs/deployment.md §7): the client address for the
# login lockout is the one it appends to X-Forwarded-For.
PREAU_TRUSTED_PROXIES = env_int("PREAU_TRUSTED_PROXIES", 1)

# HTTPS everywhere (the reverse proxy terminates TLS and sets X-Forwarded-Proto).
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", True)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Preloading is the town's decision for its whole domain (hstspreload.org takes only the apex
# domain), not this application's: off by default, so its deploy warning is silenced.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True

WAGTAILADMIN_BASE_URL = env("WAGTAILADMIN_BASE_URL", f"https://{ALLOWED_HOSTS[0]}")

# Agents see families' personal and health data: the admin requires a TOTP second factor.
PREAU_ADMIN_REQUIRE_2FA = env_bool("PREAU_ADMIN_REQUIRE_2FA", True)

# E-mail through anymail: ANYMAIL_BACKEND like "anymail.backends.brevo.EmailBackend" and the
# provider's key in ANYMAIL_API_KEY; or plain SMTP when EMAIL_HOST is set.
ANYMAIL_BACKEND = env("ANYMAIL_BACKEND")
if ANYMAIL_BACKEND:
    EMAIL_BACKEND = ANYMAIL_BACKEND
    ANYMAIL = {"API_KEY": env("ANYMAIL_API_KEY", required=True)}
else:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env("EMAIL_HOST", "localhost")
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
# Only the task worker talks to the mail server (portal/services/mail.py); a server that does
# not answer fails the try after this many seconds and the message is retried later.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 30)
