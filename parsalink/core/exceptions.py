"""The one DRF exception handler: every error is `{"detail", "code"}`, plus `fields` on 400.

Services raise AppError subclasses (parsalink/core/errors.py) and views let them through: the
handler answers each with its own status, body and headers, so no view translates errors.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from parsalink.core.errors import AppError, ServiceUnavailable, error_body


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


def api_exception_body(exc: exceptions.APIException) -> dict:
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
            return error_body(whole[0] if whole else "Invalid input.", "invalid", fields)
        messages = _messages(exc.detail)
        return error_body(
            messages[0] if messages else "Invalid input.", _first_code(exc.get_codes())
        )
    detail = exc.detail
    if isinstance(detail, (list, dict)):
        messages = _messages(detail)
        detail = messages[0] if messages else exc.default_detail
    return error_body(str(detail), _first_code(exc.get_codes()))


def _app_error_response(exc: AppError, context) -> Response:
    status_code, headers = exc.status_code, dict(exc.headers)
    if status_code == status.HTTP_401_UNAUTHORIZED:
        # As DRF does for AuthenticationFailed: the view's challenge, or a 403 without one.
        view, request = context.get("view"), context.get("request")
        challenge = view.get_authenticate_header(request) if view and request else None
        if challenge:
            headers.setdefault("WWW-Authenticate", challenge)
        else:
            status_code = status.HTTP_403_FORBIDDEN
    set_rollback()
    return Response(exc.body(), status=status_code, headers=headers)


def json_exception_handler(exc, context):
    if isinstance(exc, (OperationalError, InterfaceError)):
        # The database is unreachable or was restarted: a fast 503 the client may retry.
        exc = ServiceUnavailable()
    if isinstance(exc, AppError):
        return _app_error_response(exc, context)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    response.data = api_exception_body(exc)
    return response
