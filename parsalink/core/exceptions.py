"""The one DRF exception handler: every error is `{"detail", "code"}`, plus `fields` on 400."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "The service is temporarily unavailable; retry shortly."
    default_code = "service_unavailable"


def _messages(value) -> list[str]:
    if isinstance(value, dict):
        return [f"{key}: {message}" for key, item in value.items() for message in _messages(item)]
    if isinstance(value, list):
        return [message for item in value for message in _messages(item)]
    return [str(value)]


def _first_code(codes) -> str:
    while isinstance(codes, (list, dict)):
        if not codes:
            return "invalid"
        codes = next(iter(codes.values())) if isinstance(codes, dict) else codes[0]
    return str(codes)


def error_body(exc: exceptions.APIException) -> dict:
    if isinstance(exc, exceptions.ValidationError):
        if isinstance(exc.detail, dict):
            # Errors about the body as a whole (a list instead of an object, a cross-field rule)
            # are the detail, not a field named "non_field_errors".
            whole = _messages(exc.detail.get(api_settings.NON_FIELD_ERRORS_KEY, []))
            fields = {
                name: _messages(value)
                for name, value in exc.detail.items()
                if name != api_settings.NON_FIELD_ERRORS_KEY
            }
            return {
                "detail": whole[0] if whole else "Invalid input.",
                "code": "invalid",
                "fields": fields,
            }
        messages = _messages(exc.detail)
        return {
            "detail": messages[0] if messages else "Invalid input.",
            "code": _first_code(exc.get_codes()),
        }
    detail = exc.detail
    if isinstance(detail, (list, dict)):
        messages = _messages(detail)
        detail = messages[0] if messages else exc.default_detail
    return {"detail": str(detail), "code": _first_code(exc.get_codes())}


def json_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, (OperationalError, InterfaceError)):
        # The database is unreachable or was restarted: a fast 503 the client may retry.
        exc = ServiceUnavailable()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    response.data = error_body(exc)
    if isinstance(exc, ServiceUnavailable):
        response["Retry-After"] = "1"
    return response
