"""What every HTML page of the site shares: readable error pages and the favicon.

The API answers errors as JSON (parsalink/core/errors.py); a person in a browser gets a page.
"""

from pathlib import Path

from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

_FAVICON = (Path(__file__).resolve().parent / "static" / "pages" / "favicon.ico").read_bytes()


def error_page(request, status: int, title: str, message: str, *, headers=None) -> HttpResponse:
    context = {
        "title": title,
        "message": message,
        "status": status,
        "person": getattr(request, "person", None),
    }
    response = render(request, "pages/error.html", context, status=status)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def page_not_found(request) -> HttpResponse:
    return error_page(request, 404, "Page not found", "There is nothing at this address.")


def csrf_failure(request, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: a form sent without its page's token (or from another site)."""
    return error_page(
        request,
        403,
        "This form has expired",
        "The form was sent without a valid security token (it may be old, or have come from "
        "another site). Go back, reload the page and try again.",
    )


@require_safe
def favicon(request) -> HttpResponse:
    """Chromium asks every origin for /favicon.ico on its own."""
    response = HttpResponse(_FAVICON, content_type="image/x-icon")
    response["Cache-Control"] = "public, max-age=86400"
    return response
