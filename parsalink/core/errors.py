"""The one application error type, and the one function that builds the error body.

Every error the server answers is `{"detail", "code"}` (+ `fields` on a 400): DRF views through
parsalink/core/exceptions.py, the middleware and probes through `error_response`, gunicorn's own
refusals through gunicorn.conf.py. All of them build it with `error_body`.
"""

from django.http import JsonResponse


def error_body(detail: str, code: str, fields: dict[str, list[str]] | None = None) -> dict:
    body: dict = {"detail": detail, "code": code}
    if fields is not None:
        body["fields"] = fields
    return body


class AppError(Exception):
    """An error a service raises for the client to see: the handler answers it as it says.

    Subclasses set `status_code`, `code` and `detail`; an instance may override the detail and
    add `fields` (a 400's messages per field) and `headers` (e.g. Retry-After).
    """

    status_code = 400
    code = "invalid"
    detail = "Invalid input."

    def __init__(
        self,
        detail: str | None = None,
        *,
        fields: dict[str, list[str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        if detail is not None:
            self.detail = detail
        self.fields = fields
        self.headers = {**getattr(type(self), "default_headers", {}), **(headers or {})}
        super().__init__(self.detail)

    def body(self) -> dict:
        return error_body(self.detail, self.code, self.fields)


class ServiceUnavailable(AppError):
    """The database, or Redis holding the rate-limit counters, is unreachable: retry shortly."""

    status_code = 503
    code = "service_unavailable"
    detail = "The service is temporarily unavailable; retry shortly."
    default_headers = {"Retry-After": "1"}


def error_response(
    status: int,
    detail: str,
    code: str,
    headers: dict | None = None,
    fields: dict[str, list[str]] | None = None,
) -> JsonResponse:
    """An error answered outside DRF views (middleware, probes, Django's error handlers)."""
    return JsonResponse(error_body(detail, code, fields), status=status, headers=headers)


def app_error_response(exc: AppError) -> JsonResponse:
    return error_response(exc.status_code, exc.detail, exc.code, exc.headers, exc.fields)


def bad_request(request, exception=None) -> JsonResponse:
    return error_response(400, "Bad request.", "bad_request")


def permission_denied(request, exception=None) -> JsonResponse:
    return error_response(403, "You do not have permission to perform this action.", "forbidden")


def not_found(request, exception=None) -> JsonResponse:
    return error_response(404, "Not found.", "not_found")


def server_error(request) -> JsonResponse:
    return error_response(500, "Internal server error.", "server_error")
