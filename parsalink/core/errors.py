"""The contract's error body `{"detail", "code"}` for responses made outside DRF views."""

from django.http import JsonResponse


def error_response(
    status: int, detail: str, code: str, headers: dict | None = None
) -> JsonResponse:
    return JsonResponse({"detail": detail, "code": code}, status=status, headers=headers)


def bad_request(request, exception=None) -> JsonResponse:
    return error_response(400, "Bad request.", "bad_request")


def permission_denied(request, exception=None) -> JsonResponse:
    return error_response(403, "You do not have permission to perform this action.", "forbidden")


def not_found(request, exception=None) -> JsonResponse:
    return error_response(404, "Not found.", "not_found")


def server_error(request) -> JsonResponse:
    return error_response(500, "Internal server error.", "server_error")
