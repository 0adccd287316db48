"""Request-level guards that run before authentication or any view.

Order (settings.MIDDLEWARE): Django's SecurityMiddleware first, so that its headers (nosniff,
Referrer-Policy, HSTS on TLS) are on every response, refusals included; then request context
and logging, the health probes, the API-key usage log (apikeys/middleware.py, so the refusals
below are in a key's log too), the HTTPS refusal and the body size limit, all before sessions,
authentication, throttles or views.
"""

import logging
import re
import sys
import time

from csp.constants import HEADER
from csp.middleware import CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.messages.middleware import MessageMiddleware
from django.contrib.sessions.middleware import SessionMiddleware
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.utils.functional import empty
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from parsalink.core import health
from parsalink.core.errors import AppError, ServiceUnavailable, app_error_response, error_response
from parsalink.core.ids import new_id
from parsalink.core.logging import request_id_var

request_log = logging.getLogger("parsalink.request")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
# The database, or Redis holding the throttle counters, is unreachable: a retryable 503.
_DATABASE_ERRORS = (OperationalError, InterfaceError, RedisConnectionError, RedisTimeoutError)


def service_unavailable():
    return app_error_response(ServiceUnavailable())


def _note_database_failure(sender, request=None, **kwargs) -> None:
    """Marks a request whose unhandled exception was a database or cache outage (see below)."""
    if request is not None and isinstance(sys.exception(), _DATABASE_ERRORS):
        request.parsalink_database_unavailable = True


# Django turns an exception raised inside any middleware into a 500 response right where it
# happens, so an outer middleware never sees it. This signal is sent with the exception still
# being handled; RequestContextMiddleware then answers 503 instead of that 500.
got_request_exception.connect(_note_database_failure, dispatch_uid="parsalink-database-outage")


def _logged_principal(request) -> tuple[str | None, str | None]:
    """The caller's user and key id, without triggering a lazy (session) user lookup."""
    user = request.__dict__.get("user")
    wrapped = getattr(user, "_wrapped", None)
    if user is None or wrapped is empty:
        return None, None
    user = wrapped if wrapped is not None else user
    return getattr(user, "id", None), getattr(user, "api_key_id", None)


class RequestContextMiddleware:
    """Gives each request an id (echoed as X-Request-ID) and logs one JSON line when it ends.

    The line holds method, path (never the query string), status, duration and the user / API
    key *ids* — never headers or bodies, so no token, key or password can reach the log.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else new_id("use")[4:]
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
            if response.status_code == 500 and getattr(
                request, "parsalink_database_unavailable", False
            ):
                response = service_unavailable()
            response["X-Request-ID"] = request_id
            user_id, api_key_id = _logged_principal(request)
            request_log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "durationMs": round((time.perf_counter() - started) * 1000, 2),
                    "userId": user_id,
                    "apiKeyId": api_key_id,
                },
            )
            return response
        finally:
            request_id_var.reset(token)

    def process_exception(self, request, exception):
        # A non-DRF view (the admin) hit a database outage: 503, not 500. DRF views get the
        # same answer from parsalink.core.exceptions.
        if isinstance(exception, _DATABASE_ERRORS):
            return service_unavailable()
        # The same for an application error, e.g. a password hash that found no capacity
        # (accounts/hashing.py): the admin's login answers like the API's, 429 login_busy.
        if isinstance(exception, AppError):
            return app_error_response(exception)
        return None


class HealthCheckMiddleware:
    """Answers /healthz and /readyz before host validation, the HTTPS refusal and sessions.

    Load balancers and container health checks probe over plain HTTP on the internal network,
    with whatever Host header they use (`127.0.0.1:8000`), which DJANGO_ALLOWED_HOSTS need not
    list. The probes reveal nothing but "alive" / "ready".
    """

    probes = {"/healthz": health.healthz, "/readyz": health.readyz}

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        probe = self.probes.get(request.path_info)
        if probe is not None and request.method in ("GET", "HEAD"):
            return probe(request)
        return self.get_response(request)


class HttpsOnlyMiddleware:
    """Refuses plain-HTTP requests with 403 `https_required`; never redirects (contract).

    TLS is what the WSGI server says it is (`wsgi.url_scheme`): gunicorn sets it from its own
    --certfile, or from X-Forwarded-Proto sent by a peer in FORWARDED_ALLOW_IPS. Django's
    SECURE_PROXY_SSL_HEADER stays unset, so the header from anyone else is never believed.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if settings.HTTPS_ONLY and not request.is_secure():
            return error_response(
                403,
                "HTTPS is required: this API does not accept requests over plain HTTP. "
                "Credentials sent over HTTP should be considered compromised.",
                "https_required",
            )
        return self.get_response(request)


class BodySizeLimitMiddleware:
    """Refuses request bodies over MAX_REQUEST_BODY_BYTES with 413 before anything reads them.

    A chunked body has no Content-Length; DRF then reads no body at all, and Django's own
    DATA_UPLOAD_MAX_MEMORY_SIZE bounds any other reader.
    """

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        if not raw_length.isascii() or not raw_length.isdigit():
            return error_response(400, "Content-Length is not valid.", "bad_request")
        if int(raw_length) > settings.MAX_REQUEST_BODY_BYTES:
            return error_response(
                413,
                f"Request body exceeds {settings.MAX_REQUEST_BODY_BYTES} bytes.",
                "request_too_large",
            )
        return self.get_response(request)


class StaticPolicyCSPMiddleware(CSPMiddleware):
    """django-csp's middleware with the header text built once, not twice per response.

    Our policy is one constant (settings.CONTENT_SECURITY_POLICY): no nonce, no per-view
    decorator. A response or request that does use one (a `_csp_*` attribute, a nonce that was
    read) takes django-csp's own path, so the shortcut can never drop what a view asked for.
    """

    _PER_RESPONSE = (
        "_csp_config",
        "_csp_update",
        "_csp_replace",
        "_csp_exempt",
        "_csp_config_ro",
        "_csp_update_ro",
        "_csp_replace_ro",
        "_csp_exempt_ro",
    )
    _built: tuple[object, object, str | None] | None = None

    def process_request(self, request) -> None:
        return None  # no nonce is offered: the policy allows no inline script

    def _static_policy(self) -> str | None:
        """The header for the current settings, or None when they need django-csp's own path
        (a report-only policy, excluded prefixes). Rebuilt when a test overrides either."""
        policy = getattr(settings, "CONTENT_SECURITY_POLICY", None)
        report_only = getattr(settings, "CONTENT_SECURITY_POLICY_REPORT_ONLY", None)
        built = self._built
        if built is None or built[0] is not policy or built[1] is not report_only:
            static = not report_only and not (policy or {}).get("EXCLUDE_URL_PREFIXES")
            built = self._built = (policy, report_only, build_policy() if static else None)
        return built[2]

    def process_response(self, request, response):
        header = self._static_policy()
        if header is None or any(hasattr(response, name) for name in self._PER_RESPONSE):
            return super().process_response(request, response)
        if response.status_code in (404, 500) and settings.DEBUG:
            return response  # Django's debug pages, as django-csp leaves them
        if header and HEADER not in response:
            response[HEADER] = header
        return response


class BrowserOnly:
    """Mixed into a Django middleware: it does nothing for API requests (`/api/…`).

    Sessions, the session user and messages serve the admin and the Settings pages; the API
    takes Bearer credentials only, never a session cookie, so for its requests that work is
    skipped. Still a subclass of the Django class, so the admin's checks see the middleware
    they require. (CSRF stays Django's own: `check --deploy` looks for it by name, and it costs
    an API view, which is CSRF-exempt, next to nothing.)
    """

    api_prefix = "/api/"

    def __call__(self, request):
        if request.path_info.startswith(self.api_prefix):
            return self.get_response(request)
        return super().__call__(request)


class BrowserSessionMiddleware(BrowserOnly, SessionMiddleware):
    pass


class BrowserAuthenticationMiddleware(BrowserOnly, AuthenticationMiddleware):
    pass


class BrowserMessageMiddleware(BrowserOnly, MessageMiddleware):
    pass
