"""Settings for fangkong, switched by environment variables (twelve-factor).

FANGKONG_ENV selects the profile: ``development`` (default), ``test`` or ``production``.
Production refuses to start without SECRET_KEY and ALLOWED_HOSTS.
"""

import ipaddress
import os
import sys
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
# Under pytest the test profile applies even when FANGKONG_ENV is not set.
ENV = os.environ.get("FANGKONG_ENV") or ("test" if "pytest" in sys.modules else "development")
PRODUCTION = ENV == "production"


def env_list(name: str, default: str = "") -> list[str]:
    """Read a comma-separated environment variable as a list."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


if PRODUCTION:
    SECRET_KEY = os.environ["SECRET_KEY"]
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS")
    if not ALLOWED_HOSTS:
        raise RuntimeError("ALLOWED_HOSTS must be set in production")
else:
    SECRET_KEY = os.environ.get("SECRET_KEY", "dev-only-insecure-key-change-me-" + "x" * 32)
    ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
DEBUG = os.environ.get("DEBUG", "0" if PRODUCTION else "1") == "1" and ENV != "test"
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")
CSRF_FAILURE_VIEW = "fangkong.core.views.csrf_failure"  # in the user's language

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_q",
    "ninja",
    "fangkong.core",
    "fangkong.accounts",
    "fangkong.orgs",
    "fangkong.notify",
    "fangkong.ledger",
    "fangkong.health",
    "fangkong.quarantine",
    "fangkong.travel",
    "fangkong.tracking",
    "fangkong.passes",
    "fangkong.checkpoints",
    "fangkong.rectification",
    "fangkong.evaluation",
    "fangkong.reports",
    "fangkong.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # The personal links and /healthz leave here for LEAN_MIDDLEWARE (fangkong/core/lean.py).
    "fangkong.core.lean.LeanPathsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "fangkong.core.guard.RequestGuardMiddleware",
    "fangkong.core.middleware.AuditContextMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]
# Requests that need no session, no user, no messages and no CSRF cookie: the personal
# declaration link and the service-evaluation rating pages (their tokens are the
# credential) and the load balancers' health check.
# They skip the rest of MIDDLEWARE for this shorter list (each entry as in MIDDLEWARE).
LEAN_PATHS = ["/health/d/", "/healthz", "/e/r/", "/e/b/", "/e/k/", "/e/f/"]
LEAN_MIDDLEWARE = [
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "fangkong.core.guard.RequestGuardMiddleware",
    "fangkong.core.middleware.AuditContextMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "fangkong.accounts.context_processors.navigation",
                "fangkong.notify.context_processors.inbox",
            ],
        },
    },
]

# Database: SQLite (WAL) is the embedded default; PostgreSQL via DATABASE_URL.
# How long a SQLite writer waits for another before "database is locked" (SQLite's busy
# timeout, and the writers' lock of fangkong/core/sqlite).
SQLITE_BUSY_SECONDS = 10
# How often a thread of each process copies the WAL back (fangkong/core/sqlite/checkpoints.py);
# 0 leaves it to SQLite's automatic checkpoint at a COMMIT.
SQLITE_CHECKPOINT_SECONDS = float(os.environ.get("SQLITE_CHECKPOINT_SECONDS", "1"))
SQLITE_OPTIONS = {
    "init_command": (
        # busy_timeout first, so that the journal_mode switch also waits for a lock
        f"PRAGMA busy_timeout={SQLITE_BUSY_SECONDS * 1000};PRAGMA journal_mode=WAL;"
        "PRAGMA synchronous=NORMAL;"
        # Keep 64 MiB of pages per connection, read with read() rather than a memory map:
        # the map must grow whenever a checkpoint grows the file, and every process then
        # faults its pages in again. With four connections writing the phone path cost
        # 2.10-2.66 ms of CPU per declaration with a 1 GiB map, 1.86-2.30 without, in six
        # alternations (BENCHMARKS.md phone_peak, sixth round).
        "PRAGMA mmap_size=0;PRAGMA cache_size=-65536;"
        # A thread copies the WAL back every SQLITE_CHECKPOINT_SECONDS, outside the
        # writers' lock (fangkong/core/sqlite/checkpoints.py). SQLite's own checkpoint at a
        # COMMIT, every 10,000 pages (40 MiB) rather than 1,000 (a page written again
        # meanwhile is copied once: over 800 declarations 21 % of the WAL's pages are
        # distinct, over 80 of them 35 %), is the backstop of a larger burst. The file is
        # cut back to 64 MiB after a checkpoint.
        "PRAGMA wal_autocheckpoint=10000;PRAGMA journal_size_limit=67108864;"
    ),
    "transaction_mode": "IMMEDIATE",
}
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'fangkong.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
if ENV == "test":
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # live-server threads must not hold connections
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # dj_database_url's
    # Connections persist as on PostgreSQL (CONN_MAX_AGE): opening one runs the pragmas and
    # closing one checkpoints the WAL, together more than a declaration costs. Each worker
    # process or thread keeps its own connection, which SQLite allows.
    DATABASES["default"]["OPTIONS"] = dict(SQLITE_OPTIONS)
    # Django's backend, with writers that queue on a file lock instead of sleeping in
    # SQLite's busy handler (fangkong/core/sqlite/base.py).
    DATABASES["default"]["ENGINE"] = "fangkong.core.sqlite"
    # ":memory:" spelt out: pytest-django gives each parallel worker a name of its own
    # unless the engine is Django's own or the name is this.
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SQLITE_TEST_NAME") or ":memory:"}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # The phone path's reads (fangkong/core/prepared.py) bind their values on the server and
    # are prepared by psycopg after this many runs on a connection, so PostgreSQL plans them
    # once per connection rather than on every request. The ORM's other queries bind on the
    # client and are never prepared. "off" behind a pooler that cannot keep prepared
    # statements (PgBouncer in transaction mode before 1.21).
    _prepare = os.environ.get("PG_PREPARE_THRESHOLD", "0")
    DATABASES["default"].setdefault("OPTIONS", {})["prepare_threshold"] = (
        None if _prepare == "off" else int(_prepare)
    )
# A streaming replica of PostgreSQL for reads that may lag a moment (the roll-up, the
# exports, the people lists): fangkong/core/routing.py says which and when. Without it
# every query goes to the primary.
DATABASE_REPLICA_URL = os.environ.get("DATABASE_REPLICA_URL", "")
DATABASE_ROUTERS: list[str] = []
REPLICA_PIN_SECONDS = int(os.environ.get("REPLICA_PIN_SECONDS", "10"))
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL, conn_max_age=DATABASES["default"]["CONN_MAX_AGE"]
    )
    if "prepare_threshold" in DATABASES["default"].get("OPTIONS", {}):
        DATABASES["replica"].setdefault("OPTIONS", {})["prepare_threshold"] = DATABASES["default"][
            "OPTIONS"
        ]["prepare_threshold"]
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["fangkong.core.routing.ReplicaRouter"]
    MIDDLEWARE.insert(0, "fangkong.core.routing.replica_middleware")
# PostgreSQL starts no parallel workers for our statements: a page's statements last a few
# milliseconds, and starting two workers for one (the roll-up's range sums at seeds scale)
# cost more than they saved, many times over while the web workers had the cores busy.
PG_CONNECTION_OPTIONS = {"options": "-c max_parallel_workers_per_gather=0"}
for _database in DATABASES.values():
    if _database["ENGINE"] == "django.db.backends.postgresql":
        _database["OPTIONS"] = {**_database.get("OPTIONS", {}), **PG_CONNECTION_OPTIONS}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The cache every web process shares (rate-limit counts live there or beside it, see
# fangkong/core/throttle.py): Redis when REDIS_URL names one, else a database table made
# by `manage.py createcachetable`. A per-process memory cache would let each worker count
# on its own.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    if REDIS_URL
    else {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "fangkong_cache"}
}
# Reverse proxies (addresses or networks) whose X-Forwarded-For names the client; from
# anyone else the header is ignored, since a client can write whatever it likes there.
TRUSTED_PROXIES = env_list("TRUSTED_PROXIES")
for _proxy in TRUSTED_PROXIES:
    ipaddress.ip_network(_proxy, strict=False)  # a typo stops start-up, not every request

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["fangkong.accounts.backends.LockoutModelBackend"]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if ENV == "test":
    # Argon2 is deliberately slow; tests create hundreds of users.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
LOGIN_FAILURE_LIMIT = int(os.environ.get("LOGIN_FAILURE_LIMIT", "5"))
LOGIN_LOCKOUT_MINUTES = int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15"))
# Audit rows are erased after this many days (3 years: PIPL art. 56; see docs/privacy.md).
AUDIT_RETENTION_DAYS = int(os.environ.get("AUDIT_RETENTION_DAYS", "1095"))

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Browser libraries installed from package-lock.json by `npm ci` (Makefile), served as
    # they are published: nothing is fetched at run time.
    ("vendor/jsqr", BASE_DIR / "node_modules" / "jsqr" / "dist"),
]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", BASE_DIR / "var" / "media"))
MEDIA_URL = "/media/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
# A larger body answers 413 before anything reads it (fangkong/core/guard.py); the largest
# real request is a roster of 170,000 people as .xlsx, about 12 MB.
MAX_REQUEST_BYTES = int(os.environ.get("MAX_REQUEST_MB", "50")) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BYTES
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

EMAIL_BACKEND = os.environ.get(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "0") == "1"
EMAIL_USE_SSL = os.environ.get("EMAIL_USE_SSL", "0") == "1"
EMAIL_TIMEOUT = int(os.environ.get("EMAIL_TIMEOUT", "10"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "fangkong@localhost")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# The site's public address, to turn links in robot and e-mail messages into full URLs.
SITE_URL = os.environ.get("SITE_URL", "")

# Task queue: django-q2 on the same database (ORM broker). See docs/task-queue.md.
Q_CLUSTER = {
    "name": "fangkong",
    "orm": "default",
    "workers": int(os.environ.get("Q_WORKERS", "2")),
    "timeout": 1800,
    "retry": 1900,
    "max_attempts": 3,
    "catch_up": False,
    "sync": ENV == "test" and os.environ.get("Q_SYNC", "1") == "1",
    "label": _("Task queue"),
}
QUEUE_HEARTBEAT_STALE_SECONDS = 180

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "1") == "1"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_CONTENT_TYPE_NOSNIFF = True
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"

# The task queue logs what it does at INFO (started, each task run, stopping), with the
# time and process, whatever LOG_LEVEL says: django-q2 only adds a handler of its own when
# no logger above it has one, so without the entries below its lines were dropped.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "queue": {"format": "{asctime} {levelname} [{process}] {message}", "style": "{"}
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler"},
        "queue": {"class": "logging.StreamHandler", "formatter": "queue"},
    },
    "loggers": {
        name: {"handlers": ["queue"], "level": "INFO", "propagate": False}
        for name in ("django-q", "fangkong.worker")
    },
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}
