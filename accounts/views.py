"""Browser pages of accounts: sign-in, sign-out, the start page and the person's sessions.

/login/ spends the same per-email and per-IP budgets as `POST /api/auth/login/` (charged before
any hashing, like accounts/admin_login.py), follows the same capacity rule (no hashing capacity
→ a 429 page) and records the same events, through the same login service.
"""

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from accounts.forms import LoginForm
from accounts.hashing import HashingBusy
from accounts.selectors import sessions_live
from accounts.services.login import LoginFailed
from accounts.services.user_sessions import (
    SessionNotFound,
    browser_login,
    session_end,
    sessions_end_others,
)
from accounts.throttles import login_form_over_budget
from accounts.web import (
    LOGIN_PATH,
    browser_logout,
    browser_session_clear,
    browser_session_start,
    page_actor,
    person_required,
    render_page,
    safe_next,
    signed_in,
)
from parsalink.core.client import client_ip
from parsalink.core.pages import error_page

WRONG_CREDENTIALS = "That email and password do not match an account that can sign in."


def _over_budget(request):
    """The 429 page when this attempt is over a login budget, else None (it is counted)."""
    retry_after = login_form_over_budget(request, request.POST.get("email", ""))
    if retry_after is None:
        return None
    response = error_page(
        request,
        429,
        "Too many sign-in attempts",
        "There have been too many sign-in attempts for this account or from this address.",
        headers={"Retry-After": str(retry_after)},
    )
    return response


def _busy(request):
    return error_page(
        request,
        429,
        "Too many sign-ins in progress",
        "The server is busy checking other sign-ins. Please try again in a moment.",
        headers={"Retry-After": "1"},
    )


@sensitive_post_parameters("password")
@csrf_protect
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def login_page(request):
    next_path = safe_next(request.POST.get("next") or request.GET.get("next"))
    if request.method != "POST":
        if signed_in(request) is not None:
            return redirect(next_path)
        return render_page(request, "accounts/login.html", {"form": LoginForm(), "next": next_path})
    refusal = _over_budget(request)
    if refusal is not None:
        return refusal
    form = LoginForm(request.POST)
    if form.is_valid():
        try:
            _user, session = browser_login(
                email=form.cleaned_data["email"],
                password=form.cleaned_data["password"],
                ip=client_ip(request),
                user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
            )
        except LoginFailed:
            form.add_error(None, WRONG_CREDENTIALS)
        except HashingBusy:
            return _busy(request)
        else:
            browser_session_start(request, session=session)
            return redirect(next_path)
    context = {"form": form, "next": next_path}
    return render_page(request, "accounts/login.html", context, status=400)


@require_POST
@csrf_protect
@never_cache
def logout_page(request):
    person = signed_in(request)
    if person is not None:
        request.person = person
        browser_logout(user=person.user, session_id=person.session_id, actor=page_actor(request))
    browser_session_clear(request)
    return redirect(LOGIN_PATH)


@never_cache
@require_http_methods(["GET", "HEAD"])
def landing_page(request):
    request.person = signed_in(request)
    return render_page(request, "accounts/landing.html", {"title": "ParsaLink"})


@person_required
@require_http_methods(["GET", "HEAD"])
def sessions_page(request):
    sessions = sessions_live(user=request.person.user)
    context = {
        "title": "Sessions",
        "section": "sessions",
        "sessions": sessions,
        "current_id": request.person.session_id,
    }
    return render_page(request, "accounts/sessions.html", context)


@person_required
@require_POST
def session_end_page(request, session_id: str):
    person = request.person
    try:
        session_end(user=person.user, session_id=session_id, actor=page_actor(request))
    except SessionNotFound:
        messages.error(request, "That session had already ended.")
        return redirect("page-sessions")
    if session_id == person.session_id:
        browser_session_clear(request)
        return redirect(LOGIN_PATH)
    messages.success(request, "The session has ended: its tokens no longer work.")
    return redirect("page-sessions")


@person_required
@require_POST
def sessions_end_others_page(request):
    person = request.person
    ended = sessions_end_others(
        user=person.user, keep_session_id=person.session_id, actor=page_actor(request)
    )
    messages.success(request, f"Ended {ended} other session{'s' if ended != 1 else ''}.")
    return redirect("page-sessions")
