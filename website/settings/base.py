"""Settings shared by every environment. Environment-specific files override them."""

import datetime
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

from .env import env, env_bool, env_int

PROJECT_DIR = Path(__file__).resolve().parent.parent
BASE_DIR = PROJECT_DIR.parent

INSTALLED_APPS = [
    "portal",
    "home",
    "documents",
    "menus",
    "tutorials",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.routable_page",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "csp",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "axes",
    # Its docs page then uses the bundled Swagger UI files, not a CDN (CSP, closed networks).
    "ninja",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_email",
]

MIDDLEWARE = [
    # With Redis down, one page computes each cached value once (portal/cache/display_cache.py).
    "portal.middleware.RequestMemoMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Requests that queued too long behind the proxy get « réessayez dans un instant » (website/busy.py).
    "website.busy.queue_limit",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Anonymous visitors' public pages from the shared cache; nothing below runs for them then.
    "portal.middleware.PublicPageCacheMiddleware",
    "website.middleware.offline_owner",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "website.middleware.PreauCSPMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "portal.middleware.HtmxRedirectMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "portal.middleware.AgentTwoFactorMiddleware",
    "portal.middleware.FamilyIdleTimeoutMiddleware",
    # Last, as django-axes asks, so it sees the lockout raised by the authentication backend.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "website.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PROJECT_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "website.context_processors.town",
            ],
        },
    },
]

WSGI_APPLICATION = "website.wsgi.application"

# SQLite is the embedded default; production and CI pass a PostgreSQL DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        conn_max_age=env_int("CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "portal.User"
LOGIN_URL = "portal:login"
# After logging in, a parent lands on their space (a safe `next` given with the login wins).
LOGIN_REDIRECT_URL = "portal:dashboard"
LOGOUT_REDIRECT_URL = "/"
WAGTAIL_FRONTEND_LOGIN_URL = "/famille/connexion/"

AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
    },
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "portal.validators.PredictablePasswordValidator"},
    {"NAME": "portal.validators.FrenchCommonPasswordValidator"},
    {"NAME": "portal.validators.MaximumLengthValidator", "OPTIONS": {"max_length": 128}},
]

# Accounts (portal): axes locks an (e-mail, client address) pair for 15 min after 5 failures,
# and a client address after PREAU_ADDRESS_FAILURE_LIMIT failures on any accounts
# (portal/lockout.py). The client address is read behind PREAU_TRUSTED_PROXIES reverse proxies.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "portal.backends.UserBackend",
]
AXES_FAILURE_LIMIT = 5
AXES_COOLOFF_TIME = datetime.timedelta(minutes=15)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"], "ip_address"]
AXES_HANDLER = "portal.lockout.LockoutHandler"
AXES_CLIENT_IP_CALLABLE = "portal.lockout.client_address"
PREAU_ADDRESS_FAILURE_LIMIT = env_int("PREAU_ADDRESS_FAILURE_LIMIT", 20)
PREAU_TRUSTED_PROXIES = env_int("PREAU_TRUSTED_PROXIES", 0)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "portal/account/locked_out.html"
AXES_USERNAME_CALLABLE = "portal.validators.axes_username"
PASSWORD_RESET_TIMEOUT = 3 * 3600
PREAU_INVITATION_VALIDITY_HOURS = 72
# Family sessions end after this many seconds without a request.
PREAU_FAMILY_IDLE_TIMEOUT = 30 * 60
# Agents need a TOTP second factor for the admin when this is on (production turns it on).
PREAU_ADMIN_REQUIRE_2FA = env_bool("PREAU_ADMIN_REQUIRE_2FA", False)
OTP_TOTP_ISSUER = "Préau"
# Self sign-up is off while this is empty; a town that wants it sets a code it gives families.
PREAU_SIGNUP_TOWN_CODE = env("PREAU_SIGNUP_TOWN_CODE", "")
PREAU_UPLOAD_MAX_BYTES = 10 * 1024 * 1024
# How long personal data is kept (docs/data-protection.md, « How long »; applied by
# `manage.py apply_retention`). A town sets them from its own deliberation.
PREAU_RETENTION = {
    # Whole school years without any activity after a family's last one: then it is anonymised.
    "family_years": env_int("PREAU_RETENTION_FAMILY_YEARS", 1),
    # Whole school years without a booking after a child's last one: then its health data goes.
    "health_years": env_int("PREAU_RETENTION_HEALTH_YEARS", 1),
    "audit_years": env_int("PREAU_RETENTION_AUDIT_YEARS", 5),
    "login_days": env_int("PREAU_RETENTION_LOGIN_DAYS", 30),
    "invitation_days": env_int("PREAU_RETENTION_INVITATION_DAYS", 30),
    "email_days": env_int("PREAU_RETENTION_EMAIL_DAYS", 365),
    # Stripe's webhook events as received (the payer's e-mail and name are in them), processed.
    "stripe_event_days": env_int("PREAU_RETENTION_STRIPE_EVENT_DAYS", 365),
}
# Overload (website/busy.py): a request that waited longer than this in the proxy's queue
# (X-Request-Start) is answered 503 « réessayez dans un instant » at once; 0 = off.
PREAU_MAX_QUEUE_SECONDS = env_int("PREAU_MAX_QUEUE_SECONDS", 0)

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("Français")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

STATICFILES_FINDERS = [
    "django.contrib.staticfiles.finders.FileSystemFinder",
    "django.contrib.staticfiles.finders.AppDirectoriesFinder",
]
STATICFILES_DIRS = [PROJECT_DIR / "static"]
STATIC_ROOT = Path(env("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATIC_URL = "/static/"

# Public media (images) live under MEDIA_ROOT; documents and family uploads go to a private
# storage that has no URL at all, so they can only be reached through views that check access.
MEDIA_ROOT = Path(env("MEDIA_ROOT", BASE_DIR / "media"))
MEDIA_URL = "/media/"
PRIVATE_MEDIA_ROOT = Path(env("PRIVATE_MEDIA_ROOT", BASE_DIR / "private-media"))

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# Wagtail
WAGTAIL_SITE_NAME = "Préau"
WAGTAILADMIN_BASE_URL = env("WAGTAILADMIN_BASE_URL", "http://127.0.0.1:8000")
# On PostgreSQL, French stemming: « cantines » finds « cantine », « tutoriel » finds « Tutoriels ».
# After changing it, rebuild the index: `manage.py update_index`.
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database",
                                      "SEARCH_CONFIG": "french"}}
WAGTAILDOCS_DOCUMENT_MODEL = "documents.PreauDocument"
WAGTAILDOCS_DOCUMENT_FORM_BASE = "documents.forms.PreauDocumentForm"
WAGTAILDOCS_EXTENSIONS = ["pdf"]
WAGTAILDOCS_MAX_UPLOAD_SIZE = 20 * 1024 * 1024
# Documents always go through Django so collection privacy is enforced on every download.
WAGTAILDOCS_SERVE_METHOD = "serve_view"
WAGTAIL_I18N_ENABLED = False
WAGTAIL_ENABLE_UPDATE_CHECK = False
WAGTAILADMIN_PERMITTED_LANGUAGES = [("fr", "Français"), ("en", "English")]
WAGTAIL_USER_CUSTOM_FIELDS = ["first_name", "last_name"]
# Its e-mail goes through the queue like every other (portal/services/mail.py).
WAGTAILADMIN_USER_PASSWORD_RESET_FORM = "portal.forms.AdminPasswordResetForm"
WAGTAILEMBEDS_RESPONSIVE_HTML = True

# E-mail
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Préau <no-reply@example.org>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Background tasks run in the database backend: no extra server by default.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# Stripe (the demo provider is used while the secret key is empty)
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY", "")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY", "")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET", "")
PAYMENT_CURRENCY = "eur"

# Content Security Policy: only our own origin; video embeds from the usual hosts.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "media-src": ["'self'"],
        "font-src": ["'self'"],
        "frame-src": [
            "https://www.youtube-nocookie.com",
            "https://www.youtube.com",
            "https://player.vimeo.com",
            "https://www.dailymotion.com",
        ],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'", "https://checkout.stripe.com"],
        "frame-ancestors": ["'none'"],
    }
}

SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}
