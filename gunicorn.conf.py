"""gunicorn settings, every value from the environment (docs/operations.md).

gunicorn reads ./gunicorn.conf.py by default, so `gunicorn parsalink.wsgi` from the repository root
(or the container's /app) uses this file without a `-c` flag.
"""

import multiprocessing
import os
import sys

from django.core.exceptions import ImproperlyConfigured

from parsalink.core import gunicorn_patches
from parsalink.core.logging import json_stdout_config
from parsalink.env import env_int

# Configuration errors stop the master here, before any worker forks, with exactly one line on
# stderr and a non-zero exit (contract): settings.py exits with a one-line reason when
# DJANGO_SECRET_KEY is missing with debug off, and env readers raise ImproperlyConfigured.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parsalink.settings")
try:
    import parsalink.settings  # noqa: F401
except Exception as exc:  # anything a bad environment can raise; SystemExit passes through
    sys.exit(f"configuration error: {exc}")


def _int(name: str, default: int, minimum: int = 0) -> int:
    """parsalink/env.py's reader; a bad value stops the master with one line, as above."""
    try:
        return env_int(name, default, minimum=minimum)
    except ImproperlyConfigured as exc:
        sys.exit(f"configuration error: {exc}")


bind = [f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{_int('PORT', 8000, 1)}"]  # noqa: S104

# gthread: a login waiting for its password hash (accounts/hashing.py, up to LOGIN_QUEUE_TIMEOUT)
# holds one thread, not a whole process, so the other threads keep serving the API under a login
# flood (docs/performance.md). The worker cap keeps a big host within PostgreSQL's default 100
# connections (each thread keeps its own: 9 x 8 = 72).
workers = _int("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9), 1)
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = _int("GUNICORN_THREADS", 8, 1)
timeout = _int("GUNICORN_TIMEOUT", 30, 1)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30, 1)
keepalive = _int("GUNICORN_KEEPALIVE", 5, 0)
# Recycle workers now and then so a slow leak cannot grow forever; jitter avoids all of them
# restarting at the same moment.
max_requests = _int("GUNICORN_MAX_REQUESTS", 10000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 1000)

# Trust X-Forwarded-Proto only from the proxies listed here. gunicorn's own default trusts
# 127.0.0.1, which would let any local process (or a same-host proxy misconfiguration) claim TLS:
# the contract's default is "none".
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "")
# Only X-Forwarded-Proto decides the scheme (gunicorn also honours X-Forwarded-Protocol and
# X-Forwarded-SSL by default; one header is one thing for the proxy to set and strip).
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
# No WSGI variables from the proxy: gunicorn's default (SCRIPT_NAME, PATH_INFO) would let a client
# whose header the proxy passes on strip a prefix of its choosing from the path ("/x/admin/"
# served as "/admin/"), past the proxy's path rules. Empty means none (gunicorn reads it as []).
forwarder_headers = ""

# Request logs are one JSON line each from RequestContextMiddleware; gunicorn's access log would
# be a second, unstructured line per request.
accesslog = None
loglevel = os.environ.get("LOG_LEVEL", "info").lower()
# gunicorn's own messages (boot, worker restarts, timeouts) as JSON lines on stdout too.
logconfig_dict = json_stdout_config(
    loglevel.upper(),
    {
        "gunicorn.error": {"handlers": ["stdout"], "level": loglevel.upper(), "propagate": False},
        "gunicorn.access": {"handlers": [], "propagate": False},
    },
)

# Let the certificate and key be given by environment too (TLS at gunicorn, no proxy).
if os.environ.get("GUNICORN_CERTFILE"):
    certfile = os.environ["GUNICORN_CERTFILE"]
    keyfile = os.environ.get("GUNICORN_KEYFILE")

# No `Server:` header, and gunicorn's own refusals as JSON (parsalink/core/gunicorn_patches.py).
gunicorn_patches.apply()


def post_worker_init(worker) -> None:
    """Warm the worker before it takes traffic: URL patterns (views, serializers, the schema
    machinery) and the migration graph /readyz compares against load here, not on the first
    request after a deploy or a max_requests recycle."""
    from django.urls import get_resolver

    from parsalink.core import health

    get_resolver().url_patterns  # noqa: B018 (imports every view module)
    health.expected_migrations()
