"""ParsaLink settings: one file, every value from the environment (see docs/operations.md)."""

import hashlib
import sys
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF

from parsalink.core.logging import json_stdout_config
from parsalink.env import env_bool, env_float, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)
# Secrets shorter than this, or still holding .env.example's placeholder, are refused with debug
# off: an HS256 signing key or an HMAC pepper that can be guessed lets anyone forge tokens.
SECRET_MIN_LENGTH = 32
SECRET_PLACEHOLDER = "change-me"


def _refuse_weak_secret(name: str, value: str) -> None:
    """Exits with one line naming the setting (never its value), for manage.py and gunicorn."""
    if len(value) < SECRET_MIN_LENGTH or SECRET_PLACEHOLDER in value.lower():
        sys.exit(
            f"{name} must be at least {SECRET_MIN_LENGTH} characters and must not contain "
            f"{SECRET_PLACEHOLDER!r} when DJANGO_DEBUG is off; refusing to start."
        )


SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        # One line and a non-zero exit, for manage.py and gunicorn alike (contract).
        sys.exit("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off; refusing to start.")
    SECRET_KEY = "insecure-development-only-key-never-used-with-debug-off"
if not DEBUG:
    _refuse_weak_secret("DJANGO_SECRET_KEY", SECRET_KEY)
    for _name in ("JWT_SIGNING_KEY", "API_KEY_PEPPER"):
        if env_str(_name):
            _refuse_weak_secret(_name, env_str(_name))


def _derived_secret(purpose: str) -> str:
    """A purpose-bound secret derived from SECRET_KEY, used only when no dedicated one is set."""
    return hashlib.sha256(f"parsalink:{purpose}:{SECRET_KEY}".encode()).hexdigest()


JWT_SIGNING_KEY = env_str("JWT_SIGNING_KEY") or _derived_secret("jwt-signing-key")
API_KEY_PEPPER = env_str("API_KEY_PEPPER") or _derived_secret("api-key-pepper")

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "accounts",
    "activity",
    "apikeys",
    "contacts",
    "parsalink.core",
]

# Order matters (parsalink/core/middleware.py): security headers and the Content-Security-Policy on
# every response, refusals included; then the request log, the probes (plain HTTP, any Host),
# the key usage log (around every refusal below it), the HTTPS refusal and the body limit — all
# before sessions, authentication, throttles or any view.
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "parsalink.core.middleware.StaticPolicyCSPMiddleware",
    "parsalink.core.middleware.RequestContextMiddleware",
    "parsalink.core.middleware.HealthCheckMiddleware",
    "apikeys.middleware.ApiKeyUsageMiddleware",
    "parsalink.core.middleware.HttpsOnlyMiddleware",
    "parsalink.core.middleware.BodySizeLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Sessions, the session user and messages for the admin and the Settings pages only: API
    # requests (Bearer credentials only) skip them (parsalink/core/middleware.py).
    "parsalink.core.middleware.BrowserSessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "parsalink.core.middleware.BrowserAuthenticationMiddleware",
    "parsalink.core.middleware.BrowserMessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "parsalink.urls"
WSGI_APPLICATION = "parsalink.wsgi.application"
AUTH_USER_MODEL = "accounts.User"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: PostgreSQL from DATABASE_URL, an embedded SQLite file otherwise (quick start only).
# Persistent connections with health checks: opening a connection per request costs more than
# the whole authentication path (see docs/performance.md).
DATABASE_URL = env_str("DATABASE_URL")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL,
            conn_max_age=env_int("DB_CONN_MAX_AGE", 600),
            conn_health_checks=True,
        )
    }
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # Django's backend, with a health check that asks the kernel before it asks the server
        # (parsalink/core/postgresql/base.py): no `SELECT 1` round trip on every request.
        DATABASES["default"]["ENGINE"] = "parsalink.core.postgresql"
        DATABASES["default"].setdefault("OPTIONS", {}).update(
            connect_timeout=env_int("DB_CONNECT_TIMEOUT", 3, minimum=1),
            # A statement that runs longer than this is cancelled: a stuck query must not
            # hold a worker past gunicorn's timeout.
            options=f"-c statement_timeout={env_int('DB_STATEMENT_TIMEOUT_MS', 10000)}",
        )
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": env_str("SQLITE_PATH") or str(BASE_DIR / "db.sqlite3"),
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Cache shared by every worker and machine: throttling depends on it. Never per-process memory.
REDIS_URL = env_str("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "parsalink.core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "parsalink"),
            # A Redis outage must answer a fast 503 (parsalink.core.middleware), not hold a worker.
            "OPTIONS": {
                "socket_connect_timeout": env_int("REDIS_TIMEOUT", 2, minimum=1),
                "socket_timeout": env_int("REDIS_TIMEOUT", 2, minimum=1),
            },
        }
    }
else:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.db.DatabaseCache",
            "LOCATION": "parsalink_cache",
            "KEY_PREFIX": env_str("CACHE_KEY_PREFIX", "parsalink"),
        }
    }

# Passwords: Argon2id first, with parameters measured in docs/performance.md.
PASSWORD_HASHERS = [
    "accounts.hashers.ParsaLinkArgon2Hasher",
    "accounts.hashers.ParsaLinkPBKDF2Hasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Longest password accepted; long passphrases are hashed untruncated (Argon2 has no 72-byte cap).
PASSWORD_MAX_LENGTH = 1024
# Every password hash runs on LOGIN_HASH_THREADS threads per process at CPU niceness
# LOGIN_HASH_NICE (accounts/hashing.py), so the API's requests win the CPU under a login flood.
# A login waits up to LOGIN_QUEUE_TIMEOUT seconds for its hash to start, then 429 login_busy.
LOGIN_HASH_THREADS = env_int("LOGIN_HASH_THREADS", 1, minimum=1)
LOGIN_HASH_NICE = env_int("LOGIN_HASH_NICE", 19, minimum=0)
LOGIN_QUEUE_TIMEOUT = env_float("LOGIN_QUEUE_TIMEOUT", 2.0, minimum=0.0, maximum=60.0)

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
# Where collectstatic writes and WhiteNoise serves from (the Docker image collects at build time).
STATIC_ROOT = env_str("STATIC_ROOT") or BASE_DIR / "staticfiles"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# Request bodies over 1 MiB are refused with 413 (contract).
MAX_REQUEST_BODY_BYTES = 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = MAX_REQUEST_BODY_BYTES

# Transport security. TLS is detected from the WSGI scheme, which gunicorn sets from its own
# --certfile or from X-Forwarded-Proto sent by a proxy in FORWARDED_ALLOW_IPS (gunicorn.conf.py).
# Django's SECURE_PROXY_SSL_HEADER stays unset on purpose: it would believe the header from anyone.
FORWARDED_ALLOW_IPS = env_list("FORWARDED_ALLOW_IPS")
HTTPS_ONLY = not DEBUG
# /healthz and /readyz answer over plain HTTP (internal network, docs/operations.md): they are
# served by HealthCheckMiddleware, ahead of HttpsOnlyMiddleware.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# No redirect to HTTPS: HttpsOnlyMiddleware refuses plain HTTP instead (a redirect would mean the
# client already sent its credentials in the clear). check --deploy's W008 is silenced for that.
SECURE_SSL_REDIRECT = False
# W021: the HSTS `preload` directive lets anyone submit the domain, and all its subdomains, to
# the browsers' preload list, a commitment that takes months to undo; the operator opts in
# with SECURE_HSTS_PRELOAD=1 once every subdomain serves HTTPS.
SILENCED_SYSTEM_CHECKS = ["security.W008", "security.W021"]
SESSION_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_HTTPONLY = True
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS")
# A form sent without its token gets a readable page (parsalink/core/pages.py), never debug text.
CSRF_FAILURE_VIEW = "parsalink.core.pages.csrf_failure"
X_FRAME_OPTIONS = "DENY"
# Every page from this origin alone (contract): no third-party script, style, font or frame, no
# inline script, no plugin, no <base> rewrite, never framed. Sent on every response (an API
# answer rendered by a browser gets it too). The API docs (parsalink/core/docs.py) and the admin
# need nothing more.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [NONE],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Tokens (contract: 1 hour access, 30 days refresh from login, no leeway, HS256 only).
JWT_ACCESS_TOKEN_LIFETIME = env_int("JWT_ACCESS_TOKEN_LIFETIME", 3600, minimum=1)
JWT_REFRESH_TOKEN_LIFETIME = env_int("JWT_REFRESH_TOKEN_LIFETIME", 2592000, minimum=1)
JWT_REFRESH_REUSE_GRACE = env_int("JWT_REFRESH_REUSE_GRACE", 0)
# Seconds; a session not refreshed for that long is dead (0 = no idle timeout).
JWT_SESSION_IDLE_TIMEOUT = env_int("JWT_SESSION_IDLE_TIMEOUT", 0)
JWT_ISSUER = env_str("JWT_ISSUER", "parsalink")
SIMPLE_JWT = {
    "ALGORITHM": "HS256",
    "SIGNING_KEY": JWT_SIGNING_KEY,
    "VERIFYING_KEY": "",
    "ISSUER": JWT_ISSUER,
    "AUDIENCE": None,
    "LEEWAY": 0,
    "ACCESS_TOKEN_LIFETIME": timedelta(seconds=JWT_ACCESS_TOKEN_LIFETIME),
    "REFRESH_TOKEN_LIFETIME": timedelta(seconds=JWT_REFRESH_TOKEN_LIFETIME),
    "USER_ID_FIELD": "id",
    "USER_ID_CLAIM": "user_id",
    "TOKEN_TYPE_CLAIM": "token_type",
    "JTI_CLAIM": "jti",
    "AUTH_HEADER_TYPES": ("Bearer",),
    "UPDATE_LAST_LOGIN": False,
}

THROTTLE_LOGIN_PER_EMAIL = env_str("THROTTLE_LOGIN_PER_EMAIL", "10/min")
THROTTLE_LOGIN_PER_IP = env_str("THROTTLE_LOGIN_PER_IP", "100/min")
THROTTLE_REFRESH_PER_IP = env_str("THROTTLE_REFRESH_PER_IP", "300/min")
THROTTLE_API_KEY = env_str("THROTTLE_API_KEY", "6000/min")
# Wrong secrets presented with a real key id (per key id), and any failed key (per address).
THROTTLE_API_KEY_FAILURES = env_str("THROTTLE_API_KEY_FAILURES", "10/min")
THROTTLE_API_KEY_FAILURES_PER_IP = env_str("THROTTLE_API_KEY_FAILURES_PER_IP", "30/min")
# Unauthenticated leak reports (POST /api/api-keys/leaked/), per client address.
THROTTLE_LEAK_REPORTS_PER_IP = env_str("THROTTLE_LEAK_REPORTS_PER_IP", "20/min")

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.authentication.JWTBearerAuthentication",
        "apikeys.authentication.ApiKeyAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "parsalink.core.permissions.KeyScope",
    ],
    "DEFAULT_PARSER_CLASSES": ["parsalink.core.parsers.JSONParser"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "parsalink.core.negotiation.CommonAcceptNegotiation",
    "DEFAULT_THROTTLE_CLASSES": ["apikeys.throttles.ApiKeyRateThrottle"],
    "DEFAULT_PAGINATION_CLASS": "parsalink.core.pagination.CursorPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "parsalink.core.exceptions.json_exception_handler",
    "UNAUTHENTICATED_USER": None,
    # Throttles read their rate strings from the THROTTLE_* settings above and identify
    # clients by parsalink.core.client.client_ip (X-Forwarded-For only from FORWARDED_ALLOW_IPS).
}

SPECTACULAR_SETTINGS = {
    "TITLE": "ParsaLink API",
    "DESCRIPTION": "JWT login with rotating refresh tokens, workspace API keys, contacts and "
    "an activity log. Every error body is {detail, code} (+ fields on 400).",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": "/api",
    # Swagger UI from drf-spectacular-sidecar's static files, not a CDN at @latest.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "PREPROCESSING_HOOKS": ["contacts.bench.drop_benchmark_endpoints"],
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "parsalink.core.schema.describe_input_limits",
        "parsalink.core.schema.add_error_responses",
    ],
}

PARSALINK_BENCHMARK = env_bool("PARSALINK_BENCHMARK", False)

# Default age in days for `manage.py purgeactivity`, validated by the command itself (a bad value
# is that command's one-line error, not a refusal of the whole server to start).
ACTIVITY_RETENTION_DAYS = env_str("ACTIVITY_RETENTION_DAYS", "365")

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
# One JSON object a line on stdout (parsalink/core/logging.py); gunicorn's own lines use the same
# formatter (gunicorn.conf.py). Request lines never carry headers, bodies or query strings.
LOGGING_CONFIG = "parsalink.core.logging.configure"
LOGGING = json_stdout_config(
    LOG_LEVEL,
    {
        # Request logs come from RequestContextMiddleware, one line per request.
        "django.request": {"level": "ERROR"},
        "django.server": {"level": "WARNING"},
        "py.warnings": {"level": "WARNING"},
    },
)
