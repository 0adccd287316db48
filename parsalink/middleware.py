"""Request-level guards that run before authentication or any view."""

import logging
import re
import time

from django.conf import settings
from django.db import InterfaceError, OperationalError

from parsalink.errors import error_response
from parsalink.ids import new_id
from parsalink.logging import request_id_var

request_log = logging.getLogger("parsalink.request")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContextMiddleware:
    """Gives each request an id (echoed as X-Request-ID) and logs one JSON line when it ends."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else new_id("use")[4:]
        token = request_id_var.set(request_id)
        try:
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            user = getattr(request, "user", None)
            request_log.info(
                "request",
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "durationMs": round((time.perf_counter() - started) * 1000, 2),
                    "userId": getattr(user, "id", None),
                    "apiKeyId": getattr(user, "api_key_id", None),
                },
            )
            return response
        finally:
            request_id_var.reset(token)

    def process_exception(self, request, exception):
        if isinstance(exception, (OperationalError, InterfaceError)):
            return error_response(
                503,
                "The service is temporarily unavailable; retry shortly.",
                "service_unavailable",
                headers={"Retry-After": "1"},
            )
        return None


class HttpsOnlyMiddleware:
    """Refuses plain-HTTP requests with 403 `https_required`; never redirects (contract)."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        if (
            settings.HTTPS_ONLY
            and not request.is_secure()
            and not request.path.startswith(settings.HTTPS_EXEMPT_PATHS)
        ):
            return error_response(
                403,
                "HTTPS is required: this API does not accept requests over plain HTTP. "
                "Credentials sent over HTTP should be considered compromised.",
                "https_required",
            )
        return self.get_response(request)


class BodySizeLimitMiddleware:
    """Refuses request bodies over MAX_REQUEST_BODY_BYTES with 413 before anything reads them."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request):
        raw_length = request.META.get("CONTENT_LENGTH") or "0"
        if not raw_length.isdigit():
            return error_response(400, "Content-Length is not valid.", "bad_request")
        if int(raw_length) > settings.MAX_REQUEST_BODY_BYTES:
            return error_response(
                413,
                f"Request body exceeds {settings.MAX_REQUEST_BODY_BYTES} bytes.",
                "request_too_large",
            )
        return self.get_response(request)
