"""classnote settings: one module, every value from the environment.

docs/configuration.md lists every variable. A bad value stops start-up with a
message naming it (see classnote.env). With CLASSNOTE_ENV=production the service
refuses to start with an insecure setting.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from classnote import env

PACKAGE_DIR = Path(__file__).resolve().parent

CLASSNOTE_ENV = env.choice("CLASSNOTE_ENV", "development", ("development", "production", "test"))
PRODUCTION = CLASSNOTE_ENV == "production"

# All state of the embedded default lives below one directory.
CLASSNOTE_HOME = Path(env.string("CLASSNOTE_HOME", "./var")).resolve()


def _ensure_home() -> None:
    CLASSNOTE_HOME.mkdir(parents=True, exist_ok=True, mode=0o700)


def _development_secret_key() -> str:
    """A random key kept under CLASSNOTE_HOME, so sessions survive a restart."""
    _ensure_home()
    key_file = CLASSNOTE_HOME / "secret_key"
    if not key_file.exists():
        key_file.touch(mode=0o600)
        key_file.write_text(secrets.token_urlsafe(64), encoding="utf-8")
    return key_file.read_text(encoding="utf-8").strip()


DEBUG = env.boolean("DEBUG", False)

if env.is_set("SECRET_KEY"):
    SECRET_KEY = env.string("SECRET_KEY")
elif PRODUCTION:
    raise ImproperlyConfigured("SECRET_KEY is not set. Production needs a random secret of 50+ characters.")
else:
    SECRET_KEY = _development_secret_key()

if PRODUCTION:
    if DEBUG:
        raise ImproperlyConfigured("DEBUG=true is not allowed with CLASSNOTE_ENV=production.")
    if len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure"):
        raise ImproperlyConfigured("SECRET_KEY is too weak: use 50+ random characters (e.g. from `openssl rand`).")

ALLOWED_HOSTS = env.listing("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS is empty: name the host names the service answers to.")
CSRF_TRUSTED_ORIGINS = env.listing("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "classnote.core",
    "classnote.tenancy",
    "classnote.accounts",
    "classnote.demo",
    "classnote.files",
    "classnote.cards",
    "classnote.lessons",
    "classnote.realtime",
    "classnote.portfolio",
    "classnote.privacy",
    "classnote.audit",
    "classnote.security",
    "classnote.stats",
    "classnote.rights",
    "classnote.complaints",
    "classnote.incidents",
    "classnote.status",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "allauth.usersessions",
    "django_htmx",
    "csp",
    "ninja",
    "huey.contrib.djhuey",
]

MIDDLEWARE = [
    # Outermost: the whole stack is in the request's time. Takes itself out without METRICS_TOKEN.
    "classnote.core.metrics.MetricsMiddleware",
    "classnote.core.middleware.RequestIdMiddleware",
    "classnote.core.middleware.DeadlineMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "classnote.core.middleware.SecurityHeadersMiddleware",
    "csp.middleware.CSPMiddleware",
    # After the header middleware, so static files carry the same security headers.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "classnote.accounts.middleware.SessionPolicyMiddleware",
    # Idempotency-Key on writes (core/idempotency.py): after the session policy (an ended session is no
    # user), before the write rate, so a replay of a recorded outcome does not count as a new write.
    "classnote.core.idempotency.IdempotencyMiddleware",
    # After the session policy (an ended session is no user), before any view: writes per person.
    "classnote.core.throttle.WriteRateMiddleware",
    "classnote.core.middleware.UserLanguageMiddleware",
    # Inside the language middleware (the page's language is still active): readings over the
    # kanji of the lower grades' pages (classnote.tenancy.furigana).
    "classnote.tenancy.furigana.FuriganaMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "allauth.usersessions.middleware.UserSessionsMiddleware",
    "classnote.accounts.middleware.RequireMFAMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Innermost, so it sees a view's refusal first (classnote.core.refusals).
    "classnote.core.refusals.RefusalMiddleware",
]

ROOT_URLCONF = "classnote.urls"
WSGI_APPLICATION = "classnote.wsgi.application"
ASGI_APPLICATION = "classnote.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "classnote.core.context_processors.site",
                # A pupil's every page: the teacher's screen lock ("eyes on me"), rendered from the server.
                "classnote.lessons.context_processors.screen_lock",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------------
# Embedded default: SQLite in WAL mode under CLASSNOTE_HOME. Scale-out: DATABASE_URL=postgres://...
# (psycopg 3 with its connection pool; TLS with ?sslmode=verify-full, see docs/configuration.md).
# Deadlines (issue 13; docs/configuration.md, "Deadlines"): every wait ends, and a request that
# cannot be served in time is answered 503 + Retry-After, never left hanging.
# Seconds from a request's arrival (queueing included) to its deadline.
REQUEST_TIMEOUT = env.integer("REQUEST_TIMEOUT", 15, minimum=2, maximum=600)
# Views that are slow by design (roster import, exports: @slow_view) get this many seconds from their start.
SLOW_REQUEST_TIMEOUT = env.integer("SLOW_REQUEST_TIMEOUT", 70, minimum=2, maximum=3600)
# Requests waiting for a request thread, per process, past which new ones are answered 503 at once.
REQUEST_QUEUE_MAX = env.integer("REQUEST_QUEUE_MAX", 200, minimum=1, maximum=100_000)
# PostgreSQL: connecting, a free pooled connection, one statement (server side), a transaction left
# idle (server side), and any single wait for the server's answer (client side, for a server that
# does not answer at all). Seconds.
DATABASE_CONNECT_TIMEOUT = env.integer("DATABASE_CONNECT_TIMEOUT", 5, minimum=1, maximum=600)
DATABASE_POOL_TIMEOUT = env.integer("DATABASE_POOL_TIMEOUT", 5, minimum=1, maximum=600)
DATABASE_STATEMENT_TIMEOUT = env.integer("DATABASE_STATEMENT_TIMEOUT", 10, minimum=1, maximum=3600)
DATABASE_IDLE_TRANSACTION_TIMEOUT = env.integer("DATABASE_IDLE_TRANSACTION_TIMEOUT", 30, minimum=1, maximum=3600)
DATABASE_WAIT_SECONDS = env.integer("DATABASE_WAIT_SECONDS", DATABASE_STATEMENT_TIMEOUT + 5, minimum=1, maximum=3600)
# SQLite: SQLite's own wait for a lock held by another process, and this process's write queue.
SQLITE_BUSY_TIMEOUT = env.integer("SQLITE_BUSY_TIMEOUT", 5, minimum=1, maximum=600)
SQLITE_LOCK_TIMEOUT = env.integer("SQLITE_LOCK_TIMEOUT", 10, minimum=1, maximum=600)
# /readyz: seconds each check may take, and free space under CLASSNOTE_HOME (MB) below which the
# disk, and on the embedded default the database, is reported not writable.
READY_CHECK_TIMEOUT = env.integer("READY_CHECK_TIMEOUT", 2, minimum=1, maximum=60)
READY_MIN_FREE_MB = env.integer("READY_MIN_FREE_MB", 64, minimum=0, maximum=1_000_000)

_sqlite_default = f"sqlite:///{CLASSNOTE_HOME / 'classnote.sqlite3'}"
DATABASE_URL = env.string("DATABASE_URL", _sqlite_default)
try:
    _db = dj_database_url.parse(DATABASE_URL)
except (ValueError, KeyError) as exc:
    raise ImproperlyConfigured(f"DATABASE_URL cannot be understood: {exc}") from None

if _db["ENGINE"] == "django.db.backends.sqlite3":
    if _db["NAME"] != ":memory:":
        Path(_db["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # Django's backend plus a process-wide queue for writers (classnote/core/sqlite/base.py).
    _db["ENGINE"] = "classnote.core.sqlite"
    _db["OPTIONS"] = {
        # IMMEDIATE takes the write lock at BEGIN, so two writers queue instead of failing
        # with "database is locked" half-way through a transaction.
        "transaction_mode": "IMMEDIATE",
        "timeout": SQLITE_BUSY_TIMEOUT,
        "init_command": (
            f"PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT * 1000};"
            " PRAGMA foreign_keys=ON; PRAGMA cache_size=-20000;"
        ),
    }
    # Request/response runs on a fixed pool of WSGI threads (classnote.asgi): each keeps its
    # connection instead of opening SQLite per request (measured: 717 vs 1,130 µs per request).
    _db["CONN_MAX_AGE"] = None
    _db["CONN_HEALTH_CHECKS"] = True
elif _db["ENGINE"] == "django.db.backends.postgresql":
    from classnote.core.postgres import DeadlineConnection

    _db["CONN_MAX_AGE"] = 0  # the pool keeps the connections
    # A round trip before the pool hands a connection out: one left dead by a restart is replaced.
    _db["CONN_HEALTH_CHECKS"] = True
    _pg_options = _db.setdefault("OPTIONS", {})
    _pg_options["pool"] = {
        "min_size": env.integer("DATABASE_POOL_MIN", 2, minimum=0),
        "max_size": env.integer("DATABASE_POOL_MAX", 10, minimum=1),
        # Seconds a request waits for a free connection before it is answered 503.
        "timeout": DATABASE_POOL_TIMEOUT,
        "connection_class": DeadlineConnection,
    }
    _pg_options.setdefault("connect_timeout", DATABASE_CONNECT_TIMEOUT)
    # The server ends a statement, and a transaction left idle, that run past these (milliseconds).
    _pg_server_limits = (
        f"-c statement_timeout={DATABASE_STATEMENT_TIMEOUT * 1000}"
        f" -c idle_in_transaction_session_timeout={DATABASE_IDLE_TRANSACTION_TIMEOUT * 1000}"
    )
    _pg_options["options"] = f"{_pg_options.get('options', '')} {_pg_server_limits}".strip()
    if PRODUCTION and env.boolean("DATABASE_REQUIRE_TLS", True):
        # Encrypted, and the server's certificate checked: a mode that allows plain text or skips
        # the check (disable, allow, prefer, require) is refused, not silently accepted.
        _sslmode = _db["OPTIONS"].setdefault("sslmode", "verify-full")
        if _sslmode not in ("verify-full", "verify-ca"):
            raise ImproperlyConfigured(
                f"DATABASE_URL has sslmode={_sslmode}: production needs verify-full (or verify-ca), "
                "or DATABASE_REQUIRE_TLS=false for a database on this host."
            )
else:
    raise ImproperlyConfigured("DATABASE_URL must be sqlite:///... or postgres://...")
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Cache, sessions, jobs ------------------------------------------------------------------------
REDIS_URL = env.string("REDIS_URL", "")
# Seconds to wait for Redis to accept a connection, and for any answer (cache, event bus, jobs); while
# it does not answer, the cache uses the database and tries Redis again after REDIS_RETRY_SECONDS.
REDIS_CONNECT_TIMEOUT = env.integer("REDIS_CONNECT_TIMEOUT", 1, minimum=1, maximum=60)
REDIS_SOCKET_TIMEOUT = env.integer("REDIS_SOCKET_TIMEOUT", 2, minimum=1, maximum=60)
REDIS_RETRY_SECONDS = env.integer("REDIS_RETRY_SECONDS", 5, minimum=1, maximum=600)
# Pub/sub channel prefix of the event bus; empty: derived from the database name (realtime/bus.py).
REALTIME_CHANNEL_PREFIX = env.string("REALTIME_CHANNEL_PREFIX", "")
# Seconds between the event streams' checks for stored events the bus lost (realtime/bus.py).
REALTIME_CATCHUP_SECONDS = env.integer("REALTIME_CATCHUP_SECONDS", 5, minimum=1, maximum=300)
# Changes (POST, PUT, PATCH, DELETE) one signed-in user may make per minute; 0: no limit (core/throttle.py).
WRITE_RATE_PER_MINUTE = env.integer("WRITE_RATE_PER_MINUTE", 240, minimum=0, maximum=100000)
# Hours a write's Idempotency-Key and its recorded outcome are kept for replay (core/idempotency.py).
IDEMPOTENCY_KEY_HOURS = env.integer("IDEMPOTENCY_KEY_HOURS", 24, minimum=1, maximum=24 * 30)
# Open event streams per session and per person; over a cap the oldest closes (realtime/bus.py).
REALTIME_STREAMS_PER_SESSION = env.integer("REALTIME_STREAMS_PER_SESSION", 4, minimum=1, maximum=100)
REALTIME_STREAMS_PER_USER = env.integer("REALTIME_STREAMS_PER_USER", 10, minimum=1, maximum=1000)
# Percent of the open-file limit above which a new stream gets 503 + Retry-After (realtime/capacity.py).
REALTIME_FD_HIGH_WATER = env.integer("REALTIME_FD_HIGH_WATER", 80, minimum=10, maximum=95)
# Seconds between a stream's own re-checks of its session and channel (besides the notices).
REALTIME_RECHECK_SECONDS = env.integer("REALTIME_RECHECK_SECONDS", 60, minimum=5, maximum=3600)
if PRODUCTION and REDIS_URL.lower().startswith("redis://") and env.boolean("REDIS_REQUIRE_TLS", True):
    raise ImproperlyConfigured("REDIS_URL must use rediss:// (TLS) in production, or set REDIS_REQUIRE_TLS=false.")
if PRODUCTION and REDIS_URL.lower().startswith("rediss://") and env.boolean("REDIS_REQUIRE_TLS", True):
    # redis-py checks the certificate and the host name by default; the URL must not turn that off.
    _redis_tls = {key.lower(): value.lower() for key, value in parse_qsl(urlsplit(REDIS_URL).query)}
    _redis_cert_reqs = _redis_tls.get("ssl_cert_reqs", "required")
    if _redis_cert_reqs != "required" or _redis_tls.get("ssl_check_hostname", "true") in ("0", "f", "false", "n", "no"):
        raise ImproperlyConfigured(
            "REDIS_URL turns off the check of the Redis server's certificate (ssl_cert_reqs, "
            "ssl_check_hostname): not allowed in production; name the CA with ssl_ca_certs=/path instead."
        )
if REDIS_URL:
    CACHES = {
        "default": {
            # Redis with the database behind it while Redis is down (classnote/core/cache.py).
            "BACKEND": "classnote.core.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.string("CACHE_KEY_PREFIX", "classnote"),
            "OPTIONS": {
                "socket_connect_timeout": REDIS_CONNECT_TIMEOUT,
                "socket_timeout": REDIS_SOCKET_TIMEOUT,
                "RETRY_SECONDS": REDIS_RETRY_SECONDS,
                # Login-failure counters (and their locks) are kept in the database, not in Redis: a
                # lockout holds across a Redis restart that lost its data (allauth's keys:
                # allauth:rl:<app>:<action>:<rate>:<source>; see ACCOUNT_RATE_LIMITS below).
                "DURABLE_KEYS": [r"allauth:rl:[^:]+:[a-z_]+_failed:"],
            },
        }
    }
else:
    # One serving process on the embedded default, so a process-local cache is shared by all requests.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "classnote"}}

SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
# The signed-in user and their municipality are read from the cache at every request, dropped on
# every change (classnote.accounts.usercache); this bounds a change made outside the ORM. 0: off.
USER_CACHE_SECONDS = env.integer("USER_CACHE_SECONDS", 60, minimum=0, maximum=3600)
SESSION_COOKIE_NAME = "classnote_session"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = False
# Per-role lifetimes (absolute and idle), in seconds; see classnote.accounts.sessions.
SESSION_LIFETIMES = {
    "student": (
        env.integer("SESSION_AGE_STUDENT", 8 * 3600, minimum=300),
        env.integer("SESSION_IDLE_STUDENT", 45 * 60, minimum=60),
    ),
    "teacher": (
        env.integer("SESSION_AGE_TEACHER", 12 * 3600, minimum=300),
        env.integer("SESSION_IDLE_TEACHER", 2 * 3600, minimum=60),
    ),
    "admin": (
        env.integer("SESSION_AGE_ADMIN", 8 * 3600, minimum=300),
        env.integer("SESSION_IDLE_ADMIN", 30 * 60, minimum=60),
    ),
}
SESSION_COOKIE_AGE = max(age for age, _idle in SESSION_LIFETIMES.values())
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "classnote.core.views.csrf_failure"

HUEY = {
    "name": "classnote",
    "immediate": CLASSNOTE_ENV == "test",
}
if REDIS_URL:
    # Timeouts through the URL (huey takes a URL or connection parameters, not both). Its consumer's
    # blocking pop waits up to read_timeout by design, so its socket waits that much longer.
    _huey_timeouts = {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT, "socket_timeout": REDIS_SOCKET_TIMEOUT + 1}
    _huey_given = {key.lower() for key, _value in parse_qsl(urlsplit(REDIS_URL).query)}
    _huey_extra = urlencode({key: value for key, value in _huey_timeouts.items() if key not in _huey_given})
    _huey_url = REDIS_URL + ("&" if "?" in REDIS_URL else "?") + _huey_extra if _huey_extra else REDIS_URL
    HUEY.update({"huey_class": "huey.RedisHuey", "read_timeout": 1, "connection": {"url": _huey_url}})
else:
    HUEY.update({"huey_class": "huey.SqliteHuey", "filename": str(CLASSNOTE_HOME / "jobs.sqlite3")})

# --- Accounts -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "classnote.accounts.backends.StaffBackend",
    "classnote.accounts.backends.StudentBackend",
    "classnote.accounts.backends.LoginCardBackend",
]
# Argon2id with deliberately chosen parameters (see classnote.accounts.hashers and
# docs/architecture.md): a 1,000-pupil school must be able to log in within a minute.
PASSWORD_HASHERS = [
    "classnote.accounts.hashers.ClassnoteArgon2Hasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
if CLASSNOTE_ENV == "test":
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher", *PASSWORD_HASHERS]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "account_login"

ACCOUNT_ADAPTER = "classnote.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_EMAIL_FIELD = None
ACCOUNT_USER_MODEL_USERNAME_FIELD = "username"
ACCOUNT_EMAIL_VERIFICATION = "none"
# No mail through allauth (accounts have no address; AccountAdapter.send_mail sends nothing): a
# forgotten password is reset by a school administrator (accounts.views.password_forgotten).
ACCOUNT_EMAIL_UNKNOWN_ACCOUNTS = False
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PRESERVE_USERNAME_CASING = False
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
# A school's pupils and staff share one public IP: per-IP limits must be generous, per-account strict.
# Per key first: an attempt refused by an account's limit then does not use up the address's budget
# (classnote.accounts.throttling counts each attempt before its check).
ACCOUNT_RATE_LIMITS = {
    "login": "300/m/ip",
    "login_failed": "5/15m/key,120/5m/ip",
    "student_login_failed": "8/15m/key,30/1d/key,300/5m/ip",
    "card_login_failed": "60/5m/ip",
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
}
MFA_ADAPTER = "classnote.accounts.mfa_adapter.MFAAdapter"
# TOTP seeds are encrypted with a key derived from this (default: SECRET_KEY). Rotating it
# invalidates enrolled authenticator apps; recovery codes still work.
MFA_ENCRYPTION_KEY = env.string("MFA_ENCRYPTION_KEY", "")
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
MFA_PASSKEY_LOGIN_ENABLED = True
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = not PRODUCTION
MFA_TOTP_ISSUER = env.string("MFA_TOTP_ISSUER", "classnote")
MFA_RECOVERY_CODE_COUNT = 10
# Recovery codes are shown once, right after they are made; to see codes again, make new ones.
MFA_RECOVERY_CODES_SHOW_ONCE = True
USERSESSIONS_TRACK_ACTIVITY = False
ALLAUTH_TRUSTED_PROXY_COUNT = env.integer("TRUSTED_PROXY_COUNT", 0, minimum=0, maximum=5)

# --- Languages ------------------------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("ja", _("Japanese")), ("zh-hant", _("Traditional Chinese"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = env.string("TIME_ZONE", "UTC")
LANGUAGE_COOKIE_NAME = "classnote_language"
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# --- Files ----------------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = CLASSNOTE_HOME / "static"
_ensure_home()
STATIC_ROOT.mkdir(exist_ok=True)
MEDIA_ROOT = CLASSNOTE_HOME / "media"
# Uploaded files (classnote.files): on local disk under CLASSNOTE_HOME by default, in an
# S3-compatible bucket when S3_BUCKET is set. Objects are private and never linked to: every
# download goes through the access-checked view, so no storage URL (signed or not) reaches a browser.
S3_BUCKET = env.string("S3_BUCKET", "")
if S3_BUCKET:
    from urllib.parse import urlsplit

    _s3_endpoint = env.string("S3_ENDPOINT_URL", "")
    _s3_verify = env.boolean("S3_VERIFY_TLS", True)
    _s3_ca_bundle = env.string("S3_CA_BUNDLE", "")
    if PRODUCTION and not _s3_verify:
        raise ImproperlyConfigured(
            "S3_VERIFY_TLS=false is not allowed with CLASSNOTE_ENV=production: "
            "name the CA certificate of the storage with S3_CA_BUNDLE instead."
        )
    if (
        PRODUCTION
        and _s3_endpoint.startswith("http://")
        and urlsplit(_s3_endpoint).hostname not in ("127.0.0.1", "localhost", "::1")
    ):
        raise ImproperlyConfigured("S3_ENDPOINT_URL must use https:// in production (plain http only on this host).")
    _default_storage: dict[str, object] = {
        # django-storages' S3Storage inside the storage guard, with deadlines (classnote.files.s3).
        "BACKEND": "classnote.files.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": S3_BUCKET,
            "endpoint_url": _s3_endpoint or None,
            "region_name": env.string("S3_REGION", "") or None,
            # Unset: boto3's own chain (AWS_* variables, instance or pod roles).
            "access_key": env.string("S3_ACCESS_KEY_ID", "") or None,
            "secret_key": env.string("S3_SECRET_ACCESS_KEY", "") or None,
            "verify": (_s3_ca_bundle or None) if _s3_verify else False,
            "addressing_style": env.choice(
                "S3_ADDRESSING_STYLE", "path" if _s3_endpoint else "auto", ("auto", "path", "virtual")
            ),
            "signature_version": "s3v4",
            "default_acl": None,  # no ACL header: objects stay as private as the bucket
            "querystring_auth": False,  # no signed URLs: .url() of an object opens nothing
            "file_overwrite": True,  # keys are random (files/<school>/<uuid>): no existence check
            "max_memory_size": 8 * 1024 * 1024,  # downloads larger than this spool to a temporary file
            # botocore waits 60 s to connect and 60 s per read, 3 attempts, by default (issue 13).
            "connect_timeout": env.integer("S3_CONNECT_TIMEOUT", 2, minimum=1, maximum=60),
            # Keep (connect + read) x attempts under REQUEST_TIMEOUT: 2 + 5 s, twice, fits in 15 s.
            "read_timeout": env.integer("S3_READ_TIMEOUT", 5, minimum=1, maximum=300),
            "max_attempts": env.integer("S3_MAX_ATTEMPTS", 2, minimum=1, maximum=10),
        },
    }
else:
    _default_storage = {
        # Django's FileSystemStorage inside the storage guard (classnote.files.storage).
        "BACKEND": "classnote.files.storage.FileSystemStorage",
        "OPTIONS": {"location": MEDIA_ROOT},
    }
# The storage guard (classnote.files.guard), per serving process: at most this many storage calls at
# once (fewer than WSGI_THREADS, so a hung storage never holds every request thread), and after a
# call the storage did not answer, this many seconds of refusing storage calls at once (503).
STORAGE_CONCURRENCY = env.integer("STORAGE_CONCURRENCY", 2, minimum=1, maximum=256)
STORAGE_RETRY_SECONDS = env.integer("STORAGE_RETRY_SECONDS", 10, minimum=1, maximum=3600)
FILE_UPLOAD_PERMISSIONS = 0o600
FILE_UPLOAD_DIRECTORY_PERMISSIONS = 0o700
# The first handler stops reading an upload once it exceeds the uploader's tenant limit.
FILE_UPLOAD_HANDLERS = [
    "classnote.files.uploads.UploadLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
STORAGES = {
    "default": _default_storage,
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
# What one person may keep in uploaded files, in MB (files/validation.py): pupils, and staff.
FILE_QUOTA_MB_STUDENT = env.integer("FILE_QUOTA_MB_STUDENT", 1024, minimum=1, maximum=1_000_000)
FILE_QUOTA_MB_STAFF = env.integer("FILE_QUOTA_MB_STAFF", 10240, minimum=1, maximum=1_000_000)
# Picture work runs on small bounded thread pools, off the request threads (classnote.core.workpool):
# decoding and re-encoding uploaded images, and rendering drawings (stored once per card version).
IMAGE_MAX_PIXELS = env.integer("IMAGE_MAX_PIXELS", 24_000_000, minimum=1_000_000, maximum=80_000_000)
IMAGE_WORKERS = env.integer("IMAGE_WORKERS", 1, minimum=1, maximum=16)
RENDER_WORKERS = env.integer("RENDER_WORKERS", 1, minimum=1, maximum=16)
RENDER_WAIT_MS = env.integer("RENDER_WAIT_MS", 1000, minimum=0, maximum=30_000)
# Recordings (files/validation.py), in MB, never more than the tenant's upload limit: sound, and video
# (the recorder of the pages stops a video at VIDEO_MAX_SECONDS; the server judges by size).
AUDIO_MAX_MB = env.integer("AUDIO_MAX_MB", 10, minimum=1, maximum=500)
VIDEO_MAX_MB = env.integer("VIDEO_MAX_MB", 50, minimum=1, maximum=500)
AUDIO_MAX_SECONDS = env.integer("AUDIO_MAX_SECONDS", 300, minimum=5, maximum=3600)
VIDEO_MAX_SECONDS = env.integer("VIDEO_MAX_SECONDS", 60, minimum=5, maximum=600)
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 2000

# --- Transport security ---------------------------------------------------------------------------
# In production every request is HTTPS (redirect + HSTS) and every cookie is Secure. Behind a TLS-
# terminating proxy set TRUSTED_PROXY_COUNT=1 so X-Forwarded-Proto/For are believed (and only then).
HTTPS = env.boolean("HTTPS", PRODUCTION)
if PRODUCTION and not HTTPS:
    raise ImproperlyConfigured("HTTPS=false is not allowed with CLASSNOTE_ENV=production: all traffic is encrypted.")
SECURE_SSL_REDIRECT = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
LANGUAGE_COOKIE_SECURE = HTTPS
if HTTPS:
    # "__Host-": browsers accept such a cookie only if Secure, with Path=/ and no Domain, so neither a
    # plain-HTTP page nor another (sub)domain can set or overwrite it (OWASP ASVS 5.0, 3.3.1/3.3.3).
    SESSION_COOKIE_NAME = f"__Host-{SESSION_COOKIE_NAME}"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
    LANGUAGE_COOKIE_NAME = f"__Host-{LANGUAGE_COOKIE_NAME}"
SECURE_HSTS_SECONDS = env.integer("HSTS_SECONDS", 63072000 if HTTPS else 0, minimum=0)
if PRODUCTION and SECURE_HSTS_SECONDS < 31536000:
    raise ImproperlyConfigured("HSTS_SECONDS must be at least 31536000 (one year) in production.")
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.boolean("HSTS_INCLUDE_SUBDOMAINS", HTTPS)
SECURE_HSTS_PRELOAD = env.boolean("HSTS_PRELOAD", HTTPS)
if ALLAUTH_TRUSTED_PROXY_COUNT:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    USE_X_FORWARDED_HOST = False
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Camera and microphone are denied everywhere but on the pages that use them (classnote.base.headers
# .uses_camera: the QR card login, lessons, cards and the materials box), which send the second one.
_PERMISSIONS = (
    "accelerometer=(), autoplay=(), camera={media}, display-capture=(), geolocation=(), gyroscope=(), "
    "magnetometer=(), microphone={media}, midi=(), payment=(), usb=(), interest-cohort=()"
)
PERMISSIONS_POLICY = _PERMISSIONS.format(media="()")
PERMISSIONS_POLICY_CAPTURE = _PERMISSIONS.format(media="(self)")

# Strict CSP: no inline script or style, nothing from another origin. (django-csp 4)
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "media-src": ["'self'", "blob:"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "frame-src": ["'none'"],
        "worker-src": ["'self'"],
        "manifest-src": ["'self'"],
        **({"upgrade-insecure-requests": True} if HTTPS else {}),
    }
}

# --- API ------------------------------------------------------------------------------------------
NINJA_PAGINATION_PER_PAGE = 50
NINJA_PAGINATION_MAX_LIMIT = 200

# --- Metrics (classnote.core.metrics): /metrics for Prometheus --------------------------------------
# Without a token nothing is measured per request and /metrics does not exist (404).
METRICS_TOKEN = env.string("METRICS_TOKEN").strip()
if METRICS_TOKEN and (len(METRICS_TOKEN) < 16 or any(c.isspace() for c in METRICS_TOKEN)):
    raise ImproperlyConfigured("METRICS_TOKEN must be 16+ characters without spaces (a random secret).")

# --- Logging: JSON lines with a request id; never personal data ------------------------------------
LOG_LEVEL = env.choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {
        "request_id": {"()": "classnote.core.logging.RequestIdFilter"},
        # Message and fields cut to classnote.core.logging.LOG_TEXT_LIMIT characters: a request's
        # Host, path or headers can be thousands of characters long.
        "limit_length": {"()": "classnote.core.logging.LimitLengthFilter"},
        "as_warning": {"()": "classnote.core.logging.AsWarning"},
        "once_per_request": {"()": "classnote.core.logging.OncePerRequest"},
    },
    "formatters": {"json": {"()": "classnote.core.logging.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["request_id", "limit_length"],
        },
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's request logger would print the URL and sometimes POST data of failing requests.
        "django.request": {
            "handlers": ["console"],
            "level": "ERROR",
            "propagate": False,
            "filters": ["once_per_request"],
        },
        "django.security": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # A bad Host header is sent by anyone who likes (scanners): a warning, not an error.
        "django.security.DisallowedHost": {"level": "WARNING", "filters": ["as_warning"]},
        "huey": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        # The status prober's HTTP client logs every request (with its URL) at INFO.
        "httpx": {"handlers": ["console"], "level": "WARNING", "propagate": False},
        "httpcore": {"handlers": ["console"], "level": "WARNING", "propagate": False},
    },
}

# --- Product --------------------------------------------------------------------------------------
CLASSNOTE_SITE_NAME = env.string("SITE_NAME", "classnote")

# --- Data-subject rights and retention (classnote.rights) ------------------------------------------
# Days to answer a data-subject request (APPI: "without delay"; GDPR: one month).
PRIVACY_REQUEST_RESPONSE_DAYS = env.integer("PRIVACY_REQUEST_RESPONSE_DAYS", 14, minimum=1, maximum=90)
# Days stored lesson events are kept for replay to reconnecting devices before the nightly job deletes them.
REALTIME_EVENT_RETENTION_DAYS = env.integer("REALTIME_EVENT_RETENTION_DAYS", 7, minimum=1, maximum=365)

# --- E-mail (acknowledgements and outcomes of complaints) ------------------------------------------
# Unset EMAIL_HOST: mails are printed to the console outside production and dropped in production.
EMAIL_HOST = env.string("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
elif PRODUCTION:
    EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
else:
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
EMAIL_PORT = env.integer("EMAIL_PORT", 587, minimum=1, maximum=65535)
EMAIL_HOST_USER = env.string("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env.string("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env.boolean("EMAIL_USE_TLS", True)  # STARTTLS on EMAIL_PORT
EMAIL_USE_SSL = env.boolean("EMAIL_USE_SSL", False)  # implicit TLS (port 465)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ImproperlyConfigured("EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be true: choose one.")
if PRODUCTION and EMAIL_HOST and not (EMAIL_USE_TLS or EMAIL_USE_SSL):
    raise ImproperlyConfigured("EMAIL_USE_TLS or EMAIL_USE_SSL must be true in production: mail is sent encrypted.")
EMAIL_TIMEOUT = env.integer("EMAIL_TIMEOUT", 10, minimum=1, maximum=300)
DEFAULT_FROM_EMAIL = env.string("DEFAULT_FROM_EMAIL", "classnote <noreply@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Complaints and incidents (classnote.complaints, classnote.incidents) --------------------------
# Days to answer a complaint or consultation (APPI Art. 40: "appropriately and promptly").
PRIVACY_COMPLAINT_RESPONSE_DAYS = env.integer("PRIVACY_COMPLAINT_RESPONSE_DAYS", 14, minimum=1, maximum=90)
# Days a case is kept after it was answered or closed, then deleted by the retention job (3 years).
PRIVACY_COMPLAINT_RETENTION_DAYS = env.integer("PRIVACY_COMPLAINT_RETENTION_DAYS", 3 * 365, minimum=30)
# Public form: cases one client address may open per hour.
PRIVACY_COMPLAINTS_PER_HOUR = env.integer("PRIVACY_COMPLAINTS_PER_HOUR", 5, minimum=1, maximum=1000)
# Reports to the regulator, counted from discovery. APPI (PPC rules Art. 8): preliminary report
# "promptly" (the PPC's guidance: 3-5 days; 72 hours for GDPR-style tenants), final report within
# 30 days, or 60 when the leak may have been made for an unauthorised purpose.
INCIDENT_PRELIMINARY_REPORT_HOURS = env.integer("INCIDENT_PRELIMINARY_REPORT_HOURS", 5 * 24, minimum=1, maximum=30 * 24)
INCIDENT_FINAL_REPORT_DAYS = env.integer("INCIDENT_FINAL_REPORT_DAYS", 30, minimum=1, maximum=60)
INCIDENT_FINAL_REPORT_DAYS_UNAUTHORISED = env.integer(
    "INCIDENT_FINAL_REPORT_DAYS_UNAUTHORISED", 60, minimum=1, maximum=120
)
# Days a closed incident is kept (the record of what was reported), then deleted by the retention job.
INCIDENT_RETENTION_DAYS = env.integer("INCIDENT_RETENTION_DAYS", 5 * 365, minimum=365)

# --- Privacy page, data location and outbound connections (classnote.privacy.hosts, .egress) -------
# Published on /privacy/. Production requires who runs the service, a privacy contact and where the
# data lives, and refuses a configured backend host that is neither on this machine nor declared.
from classnote.privacy import hosts as _hosts  # noqa: E402

CLASSNOTE_OPERATOR_NAME = env.string("OPERATOR_NAME", "").strip()
CLASSNOTE_PRIVACY_CONTACT = env.string("PRIVACY_CONTACT", "").strip()
CLASSNOTE_DATA_LOCATION = env.string("DATA_LOCATION", "").strip()
# Outside services that process personal data (JSON list; usually SUBPROCESSORS_FILE=...json). None by default.
CLASSNOTE_SUBPROCESSORS = _hosts.parse_subprocessors(env.string("SUBPROCESSORS", ""), "SUBPROCESSORS")
CLASSNOTE_OPERATOR_HOSTS = _hosts.parse_hosts(env.listing("OPERATOR_HOSTS", []), "OPERATOR_HOSTS")
CLASSNOTE_EGRESS_GUARD = env.boolean("EGRESS_GUARD", True)
if PRODUCTION:
    _unset = [name for name in ("OPERATOR_NAME", "PRIVACY_CONTACT", "DATA_LOCATION") if not env.string(name).strip()]
    if _unset:
        raise ImproperlyConfigured(
            f"{', '.join(_unset)} must be set in production: the privacy page (/privacy/) publishes them."
        )
    if not CLASSNOTE_EGRESS_GUARD:
        raise ImproperlyConfigured("EGRESS_GUARD=false is not allowed with CLASSNOTE_ENV=production.")
    # Keep this last: it checks the host of every backend configured above.
    for _variable, _host in _hosts.undeclared_backends(
        _hosts.backend_hosts(globals().get), CLASSNOTE_OPERATOR_HOSTS, CLASSNOTE_SUBPROCESSORS
    ):
        raise ImproperlyConfigured(
            f"{_variable} names the host {_host}, which is not declared: add it to OPERATOR_HOSTS (the "
            "operator's own infrastructure) or to the hosts of its sub-processor in SUBPROCESSORS."
        )

# --- Patch deadlines (classnote.security) ----------------------------------------------------------
# Vulnerability feeds (OSV or pip-audit JSON) for the nightly patch check and the operator's page:
# file paths or http(s) URLs, comma-separated; a URL's host must be declared (OPERATOR_HOSTS).
CLASSNOTE_SECURITY_FEEDS = env.listing("SECURITY_FEED", [])
for _feed in CLASSNOTE_SECURITY_FEEDS:
    if "://" in _feed and not _feed.lower().startswith(("http://", "https://")):
        raise ImproperlyConfigured("SECURITY_FEED must name file paths or http(s) URLs.")

# --- Aggregate statistics (classnote.stats) --------------------------------------------------------
# No figure computed over fewer people than this is shown (nor derivable from the totals).
PRIVACY_MIN_GROUP_SIZE = env.integer("PRIVACY_MIN_GROUP_SIZE", 10, minimum=3, maximum=1000)

# --- Status page (issue 15): the prober (classnote.status.prober, .recording, `classnote probe`) ---
# The base URL the scheduled prober checks; empty: the address `classnote serve` listens on (set by
# serve at start-up; in production, where ALLOWED_HOSTS and TLS name the public host, give that URL).
STATUS_PROBE_URL = env.string("STATUS_PROBE_URL", "").strip()
# How often a probe round runs: the scheduled job runs every ceil(STATUS_PROBE_SECONDS / 60) minutes
# (huey's schedule is per minute); `classnote probe --every` overrides it for that process.
STATUS_PROBE_SECONDS = env.integer("STATUS_PROBE_SECONDS", 60, minimum=60, maximum=3600)
# The scheduled job runs in the job consumer of the embedded default (`classnote serve`); in
# scale-out, run `classnote probe --url` as a process of its own instead (or set this to true).
STATUS_PROBE_SCHEDULED = env.boolean("STATUS_PROBE_SCHEDULED", not REDIS_URL)
# Every request and wait of a probe gives up after this many seconds (the probe then fails).
STATUS_PROBE_TIMEOUT = env.integer("STATUS_PROBE_TIMEOUT", 10, minimum=1, maximum=60)
# The probe accounts' passwords and API token (written by `classnote probe setup`, mode 0600).
STATUS_PROBE_CREDENTIALS = Path(
    env.string("STATUS_PROBE_CREDENTIALS", "") or CLASSNOTE_HOME / "status" / "probe-credentials.json"
)
# Where probe results wait (JSON lines, append-only) while the database cannot be written.
STATUS_SPOOL_DIR = Path(env.string("STATUS_SPOOL_DIR", "") or CLASSNOTE_HOME / "status")
# --- Status page (issue 15): figures (classnote.status.figures, history, queries) ------------------
# The objective the error budget is counted against (availability of the whole service, 0..1).
STATUS_SLO = env.number("STATUS_SLO", 0.9995, minimum=0.5, maximum=0.999999)
# Seconds an observation holds at most before the time is unknown (a gap); 0: 2.5 × the probe
# interval (STATUS_PROBE_SECONDS, 60 by default: 150 s).
STATUS_GAP_SECONDS = env.integer("STATUS_GAP_SECONDS", 0, minimum=0, maximum=86_400)
# Days raw probe results are kept (each day is aggregated first), and days the daily aggregates are kept.
STATUS_RAW_DAYS = env.integer("STATUS_RAW_DAYS", 90, minimum=2, maximum=3650)
STATUS_AGGREGATE_DAYS = env.integer("STATUS_AGGREGATE_DAYS", 730, minimum=30, maximum=36_500)
# --- Status page (issue 15): incidents, maintenance and subscribers (classnote.status) -------------
# Minutes of continuously failed probes of a component after which a draft status incident opens
# automatically (never public until an operator confirms it).
STATUS_INCIDENT_AFTER_MINUTES = env.integer("STATUS_INCIDENT_AFTER_MINUTES", 5, minimum=1, maximum=24 * 60)
# The public address of this service (https://classnote.example), for the unsubscribe links in
# notification mails sent by background jobs; unset: https:// and the first name of ALLOWED_HOSTS.
STATUS_SITE_URL = env.string("STATUS_SITE_URL", "").rstrip("/")
if STATUS_SITE_URL and not STATUS_SITE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("STATUS_SITE_URL must start with https:// (or http:// outside production).")
# Seconds a webhook delivery may take (connect and answer) before it counts as failed.
STATUS_WEBHOOK_TIMEOUT = env.integer("STATUS_WEBHOOK_TIMEOUT", 10, minimum=1, maximum=60)
# Public subscription form: subscriptions one client address may ask for per hour.
STATUS_SUBSCRIPTIONS_PER_HOUR = env.integer("STATUS_SUBSCRIPTIONS_PER_HOUR", 5, minimum=1, maximum=1000)

# Status page (issue 15): the public page and its static snapshot (classnote.status.snapshot)
# The page's public address (https://status.example/status/): absolute links and ids in the Atom feed and
# summary.json of the snapshot. Unset: STATUS_SITE_URL/status/, else taken from each request (the
# snapshot's links then stay relative).
STATUS_PUBLIC_URL = env.string("STATUS_PUBLIC_URL", f"{STATUS_SITE_URL}/status/" if STATUS_SITE_URL else "")
if STATUS_PUBLIC_URL and not STATUS_PUBLIC_URL.endswith("/"):
    STATUS_PUBLIC_URL += "/"
# Seconds one computed summary serves every visitor of /status/, its feed and summary.json (0: computed
# for each request). A summary costs about 0.1 s of CPU; the page is public and polled every 30 s.
STATUS_PAGE_CACHE_SECONDS = env.integer("STATUS_PAGE_CACHE_SECONDS", 10, minimum=0, maximum=300)
# Where the prober writes the static snapshot (HTML per language, api/summary.json, feed.atom) after each
# round; the reverse proxy serves it for /status/ when the app does not answer (deploy/nginx).
STATUS_SNAPSHOT_DIR = Path(env.string("STATUS_SNAPSHOT_DIR", str(CLASSNOTE_HOME / "status-snapshot"))).resolve()
# Also uploaded to an S3-compatible bucket (s3://bucket/prefix) to host the page on another origin.
STATUS_SNAPSHOT_S3_URL = env.string("STATUS_SNAPSHOT_S3_URL", "")
if STATUS_SNAPSHOT_S3_URL and not STATUS_SNAPSHOT_S3_URL.startswith("s3://"):
    raise ImproperlyConfigured("STATUS_SNAPSHOT_S3_URL must look like s3://bucket/prefix.")
# Endpoint and keys of that bucket: the file storage's S3_* settings unless given (unset keys: boto3's chain).
STATUS_SNAPSHOT_S3_ENDPOINT_URL = env.string("STATUS_SNAPSHOT_S3_ENDPOINT_URL", env.string("S3_ENDPOINT_URL", ""))
STATUS_SNAPSHOT_S3_REGION = env.string("STATUS_SNAPSHOT_S3_REGION", env.string("S3_REGION", ""))
STATUS_SNAPSHOT_S3_ACCESS_KEY_ID = env.string("STATUS_SNAPSHOT_S3_ACCESS_KEY_ID", env.string("S3_ACCESS_KEY_ID", ""))
STATUS_SNAPSHOT_S3_SECRET_ACCESS_KEY = env.string(
    "STATUS_SNAPSHOT_S3_SECRET_ACCESS_KEY", env.string("S3_SECRET_ACCESS_KEY", "")
)
STATUS_SNAPSHOT_S3_VERIFY: bool | str = (
    (env.string("S3_CA_BUNDLE", "") or True) if env.boolean("S3_VERIFY_TLS", True) else False
)
STATUS_SNAPSHOT_S3_ADDRESSING_STYLE = env.choice(
    "S3_ADDRESSING_STYLE", "path" if STATUS_SNAPSHOT_S3_ENDPOINT_URL else "auto", ("auto", "path", "virtual")
)
# Seconds to connect and to read, one attempt per file: a slow bucket never holds up the prober for long.
STATUS_SNAPSHOT_S3_TIMEOUT = env.integer("STATUS_SNAPSHOT_S3_TIMEOUT", 5, minimum=1, maximum=60)
