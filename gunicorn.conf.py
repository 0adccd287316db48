"""gunicorn settings, every value from the environment (README "Operations").

gunicorn reads ./gunicorn.conf.py by default, so `gunicorn parsalink.wsgi` from the repository root
(or the container's /app) uses this file without a `-c` flag.
"""

import json
import multiprocessing
import os
import sys

from gunicorn import util as _gunicorn_util
from gunicorn.http import wsgi as _gunicorn_wsgi

from parsalink.core.errors import error_body
from parsalink.core.logging import json_stdout_config

# Configuration errors stop the master here, before any worker forks, with exactly one line on
# stderr and a non-zero exit (contract): settings.py exits with a one-line reason when
# DJANGO_SECRET_KEY is missing with debug off, and env readers raise ImproperlyConfigured.
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "parsalink.settings")
try:
    import parsalink.settings  # noqa: F401
except Exception as exc:  # anything a bad environment can raise; SystemExit passes through
    sys.exit(f"configuration error: {exc}")


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name, "")
    try:
        value = int(raw) if raw else default
    except ValueError:
        sys.exit(f"configuration error: {name} must be an integer, not {raw!r}")
    if value < minimum:
        sys.exit(f"configuration error: {name} must be at least {minimum}, not {value}")
    return value


bind = [f"{os.environ.get('BIND_HOST', '0.0.0.0')}:{_int('PORT', 8000, 1)}"]  # noqa: S104

# gthread: a login waiting for its password hash (accounts/hashing.py, up to LOGIN_QUEUE_TIMEOUT)
# holds one thread, not a whole process, so the other threads keep serving the API under a login
# flood (README "Performance"). The worker cap keeps a big host within PostgreSQL's default 100
# connections (each thread keeps its own: 9 x 8 = 72).
workers = _int("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9), 1)
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
threads = _int("GUNICORN_THREADS", 8, 1)
timeout = _int("GUNICORN_TIMEOUT", 30, 1)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30, 1)
keepalive = _int("GUNICORN_KEEPALIVE", 5, 1)
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

# No `Server:` response header. gunicorn (since 20.1) sends `Server: gunicorn` without a version
# and has no setting for it (benoitc/gunicorn#825); assigning `gunicorn.SERVER` does not work
# reliably because gunicorn.http.wsgi copies the value at import time. Dropping the line from the
# default headers is the one place that covers every response; tests/ops/test_headers.py fails
# if a gunicorn upgrade changes this method.
_default_headers = _gunicorn_wsgi.Response.default_headers


def _default_headers_without_server(self):
    return [line for line in _default_headers(self) if not line.startswith("Server:")]


_gunicorn_wsgi.Response.default_headers = _default_headers_without_server


def post_worker_init(worker) -> None:
    """Warm the worker before it takes traffic: URL patterns (views, serializers, the schema
    machinery) and the migration graph /readyz compares against load here, not on the first
    request after a deploy or a max_requests recycle."""
    from django.urls import get_resolver

    from parsalink.core import health

    get_resolver().url_patterns  # noqa: B018 (imports every view module)
    health.expected_migrations()


# Requests that gunicorn's own parser refuses (a request line or header over the size limit, a
# malformed header line, too many headers) never reach Django; gunicorn answers them with an
# HTML page (workers/base.py handle_error: 400, 403, 414, 417, 431, 501, 500). The
# contract wants every error as {detail, code} JSON, so the same replacement as above: the
# workers call gunicorn.util.write_error through the module, at request time. The parser's
# message is not echoed: it can quote the client's own bytes.
_ERROR_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    414: "uri_too_long",
    417: "expectation_failed",
    431: "headers_too_large",
    501: "not_implemented",
}


def _write_json_error(sock, status_int, reason, mesg):
    body = json.dumps(
        error_body(f"{reason}.", _ERROR_CODES.get(status_int, "server_error"))
    ).encode()
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\n"
        "Connection: close\r\n"
        "Content-Type: application/json\r\n"
        "X-Content-Type-Options: nosniff\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode("latin-1")
    _gunicorn_util.write_nonblock(sock, head + body)


_gunicorn_util.write_error = _write_json_error
