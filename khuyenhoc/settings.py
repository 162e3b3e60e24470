"""Settings of the Khuyến học portal, read from environment variables (see .env.example).

With no variable set the portal runs embedded: a SQLite file, Celery tasks run eagerly in a
worker process the web process starts, and a file cache both share, so `make run` needs
nothing else. DATABASE_URL switches to PostgreSQL and REDIS_URL to Redis for Celery and the cache.
"""

import datetime
import hashlib
import os
import tempfile
from pathlib import Path

from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from khuyenhoc.env import (
    check_redis_url,
    database_from_url,
    env_bool,
    env_int,
    env_list,
    env_str,
    redis_url_for_test_worker,
)

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DEBUG", True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off (production).")
    SECRET_KEY = "django-insecure-development-only-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off (production).")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "khuyenhoc",
    "associations",
    "funds",
    "scholarships",
    "learning",
    "centres",
    "plans",
    "reporting",
    "reorganisation",
    "imports",
    "demo",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.humanize",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "crispy_forms",
    "crispy_bootstrap5",
    "treebeard",
    "khuyenhoc.axes_app.AxesConfig",  # django-axes, named in Vietnamese in the admin
    "csp",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "khuyenhoc.middleware.LanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "khuyenhoc.security.SessionIdleTimeoutMiddleware",
    "khuyenhoc.security.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "khuyenhoc.urls"
WSGI_APPLICATION = "khuyenhoc.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "associations.context_processors.portal",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {"default": database_from_url(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60, minimum=0))}
else:
    # The embedded SQLite file, set up on every connection for a web process whose background
    # thread (khuyenhoc.background) writes while requests read: WAL lets readers read during a
    # long write (a 20 000-row import applies in one transaction); synchronous=NORMAL is WAL's
    # safe setting (a power cut may lose the last commits, never corrupts); a transaction takes
    # the write lock at BEGIN (IMMEDIATE), so two writers queue for it, up to the busy timeout,
    # instead of one failing at once with "database is locked" when it upgrades a read.
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH") or str(BASE_DIR / "db.sqlite3"),
            "OPTIONS": {
                "timeout": env_int("SQLITE_BUSY_TIMEOUT", 60, minimum=1),
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: cache and Celery ------------------------------------------------------------
# A Redis that accepts connections but never answers must not hang a request: every socket
# operation gives up after REDIS_TIMEOUT seconds.
REDIS_URL = env_str("REDIS_URL")
REDIS_TIMEOUT = env_int("REDIS_TIMEOUT", 2, minimum=1)
if REDIS_URL:
    check_redis_url(REDIS_URL)
    # `make test` runs the suite in parallel processes (pytest-xdist) that share one Redis:
    # each process (gw0, gw1, …) takes its own database number, so that no process's cache
    # flush or Celery queue reaches another's test database.
    REDIS_URL = redis_url_for_test_worker(REDIS_URL, os.environ.get("PYTEST_XDIST_WORKER", ""))
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "khuyenhoc",
            "OPTIONS": {
                "socket_connect_timeout": REDIS_TIMEOUT,
                "socket_timeout": REDIS_TIMEOUT,
            },
        }
    }
elif not DATABASE_URL:
    # The embedded mode: tasks run in a worker process (TASKS_IN_WORKER_PROCESS below), so the
    # cache is shared between processes through files: an import's progress written by the
    # worker is read by the web process's progress page; a recompute's lock taken by a request
    # is released by the task. One directory per SQLite file, in the temporary directory.
    _sqlite_name = DATABASES["default"]["NAME"]
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": env_str("CACHE_DIR")
            or str(
                Path(tempfile.gettempdir())
                / f"khuyenhoc-cache-{hashlib.sha256(str(_sqlite_name).encode()).hexdigest()[:16]}"
            ),
            "OPTIONS": {"MAX_ENTRIES": 5000},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Rendered list pages kept until the next write to what they show (khuyenhoc/page_cache.py): only
# with a cache every process shares, where a write in one process moves the stamps all read.
PAGE_CACHE = env_bool("PAGE_CACHE", not CACHES["default"]["BACKEND"].endswith("LocMemCache"))

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = REDIS_URL or "cache+memory://"
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
# Embedded mode: the eager tasks of a web process run in one background thread, not inside
# the request that started them; management commands still run theirs inline (khuyenhoc.background).
TASKS_IN_BACKGROUND_THREAD = not REDIS_URL
# On the embedded SQLite, the background thread hands each task to one worker process started
# by the web process (khuyenhoc.background): a long import apply then no longer shares the web
# process's GIL, which doubled another user's page while it ran. TASKS_IN_PROCESS=0 keeps them
# in the thread.
TASKS_IN_WORKER_PROCESS = not REDIS_URL and not DATABASE_URL and env_bool("TASKS_IN_PROCESS", True)
# The worker process's niceness (0–19). 0 by default: at 10, on a machine busy with other work,
# a 20 000-row apply took 3× as long (holding the write lock as long) for no clear gain in the
# pages (bench/NOTES.md, 01/12/2026).
TASKS_WORKER_NICE = env_int("TASKS_WORKER_NICE", 0, minimum=0)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_CONNECTION_TIMEOUT = REDIS_TIMEOUT
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_timeout": REDIS_TIMEOUT,
    "socket_connect_timeout": REDIS_TIMEOUT,
    "visibility_timeout": 3600,
}
CELERY_REDIS_SOCKET_TIMEOUT = REDIS_TIMEOUT
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = REDIS_TIMEOUT
# Publishing a task from a web request tries once more, then gives up quickly.
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 30 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 25 * 60
CELERY_RESULT_EXPIRES = 24 * 3600
CELERY_TIMEZONE = "Asia/Ho_Chi_Minh"
# Every periodic schedule lives here, in one place.
CELERY_BEAT_SCHEDULE = {
    "clear-expired-sessions-nightly": {
        "task": "khuyenhoc.tasks.sessions_clear_expired",
        "schedule": crontab(hour=1, minute=30),
    },
    # Every indicator value of every active plan, for today and each plan year's end; also
    # runs any recompute left pending while the worker or Redis was down.
    "recompute-indicators-nightly": {
        "task": "plans.tasks.indicators_recompute",
        "schedule": crontab(hour=2, minute=0),
    },
    # A recompute recorded as pending while Redis or the worker was down runs within
    # minutes of their return (a cheap query when nothing waits).
    "recompute-pending-every-5-minutes": {
        "task": "plans.tasks.indicators_recompute_pending",
        "schedule": crontab(minute="*/5"),
    },
    # An import whose task was lost (broker message, killed worker) is marked failed instead of
    # showing "checking" or "applying" for ever.
    "imports-sweep-stuck-every-10-minutes": {
        "task": "imports.tasks.jobs_sweep_stuck",
        "schedule": crontab(minute="*/10"),
    },
    # Clerks whose half-year or year report is due within 7 days or late, by e-mail.
    "report-reminders-daily": {
        "task": "reporting.tasks.reminders_send",
        "schedule": crontab(hour=7, minute=0),
    },
    # Large list exports written by the worker are kept EXPORT_KEEP_DAYS days, then removed.
    "exports-purge-nightly": {
        "task": "associations.tasks.export_jobs_purge",
        "schedule": crontab(hour=3, minute=15),
    },
}
EXPORT_KEEP_DAYS = 7

# --- Authentication ---------------------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"
# A session ends at the latest SESSION_COOKIE_AGE seconds after signing in, and earlier
# after SESSION_IDLE_TIMEOUT seconds without a request (khuyenhoc.security), or when the
# browser closes.
SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 3600, minimum=300)
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT", 3600, minimum=60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Lockout after repeated failed sign-ins (django-axes), keyed on the user name *and* the
# client address: a stranger guessing one clerk's password is stopped, yet cannot lock
# the clerk (or everyone) out from elsewhere. The address comes from X-Forwarded-For only
# through TRUSTED_PROXY_COUNT reverse proxies of ours (khuyenhoc.security.client_ip).
AUTHENTICATION_BACKENDS = [
    "khuyenhoc.security.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, minimum=0)
AXES_ENABLED = env_bool("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = datetime.timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 30, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_CLIENT_IP_CALLABLE = "khuyenhoc.security.client_ip"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# --- E-mail ------------------------------------------------------------------------------
EMAIL_BACKEND = env_str("EMAIL_BACKEND") or "django.core.mail.backends.console.EmailBackend"
EMAIL_HOST = env_str("EMAIL_HOST") or "localhost"
EMAIL_PORT = env_int("EMAIL_PORT", 25, minimum=1)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL") or "Hội Khuyến học <no-reply@localhost>"
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Language, time, formats -------------------------------------------------------------
LANGUAGE_CODE = "vi"
LANGUAGES = [("vi", _("Vietnamese")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Ho_Chi_Minh"
USE_I18N = True
USE_TZ = True
# Django's own "vi" formats lack dd/mm/yyyy input and '.' grouping; ours complete them.
FORMAT_MODULE_PATH = ["khuyenhoc.formats"]
USE_THOUSAND_SEPARATOR = True

# --- Static files: served by the app (whitenoise), never from a CDN ---------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    ("vendor/bootstrap", NODE_MODULES / "bootstrap" / "dist"),
    ("vendor/htmx", NODE_MODULES / "htmx.org" / "dist"),
    ("vendor/chartjs", NODE_MODULES / "chart.js" / "dist"),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
MEDIA_ROOT = Path(env_str("MEDIA_ROOT") or BASE_DIR / "media")
MEDIA_URL = "/media/"
# Fonts with Vietnamese glyphs for PDF receipts and reports (npm package dejavu-fonts-ttf).
PDF_FONT_DIR = Path(env_str("PDF_FONT_DIR") or NODE_MODULES / "dejavu-fonts-ttf" / "ttf")

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# --- Security -----------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
# Behind a TLS-terminating reverse proxy that sets X-Forwarded-Proto.
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Content-Security-Policy (django-csp): scripts, styles, fonts and images from the portal
# itself only. No 'unsafe-inline' anywhere: the templates carry no inline script, event
# handler or style attribute (htmx's own inline indicator style is switched off in
# base.html; its CSS is in portal.css). Scripts that set element.style (Bootstrap,
# Chart.js) go through the CSSOM, which style-src does not restrict. Bootstrap's CSS draws
# its form icons from data: SVGs, hence img-src data:.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    },
}
# The health endpoint is probed over plain HTTP by the container runtime.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]

DATA_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Shown on every page while the database holds generated people (make run's demo data).
DEMO_BANNER = env_bool("DEMO_BANNER", DEBUG)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL") or "INFO"},
    # django-axes reports every sign-in at INFO; lockouts come at WARNING.
    "loggers": {"django.db.backends": {"level": "INFO"}, "axes": {"level": "WARNING"}},
}

# Tests that roll back by serialisation (the ones that migrate back and forth) restore the
# data migrations' seeds; content types and permissions are recreated by post_migrate and
# must not be restored twice.
TEST_NON_SERIALIZED_APPS = ["django.contrib.contenttypes", "django.contrib.auth"]
