"""The signed-in person of a browser page: the Django session cookie holds their `ses_` id.

A browser sign-in is one of the person's sessions (accounts/services/user_sessions.py). Every
page request checks that session with one query, so ending it anywhere (logout-all, password
change, deactivation, another session's "End") signs the browser out on its next request. The pages
never look at an Authorization header: a Bearer credential opens no page.
"""

import time
from dataclasses import dataclass
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.db import transaction
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache

from accounts.models import User
from accounts.selectors import session_live_user
from accounts.services.user_sessions import session_terminate, session_touch
from activity.actor import Actor
from activity.services import activity_record
from parsalink.core.client import client_ip

SESSION_KEY = "parsalink_session_id"
# When this browser last marked its session used: pages mark it at most once a minute, so an
# active person outlives JWT_SESSION_IDLE_TIMEOUT without a write on every page.
TOUCHED_KEY = "parsalink_session_touched"
TOUCH_INTERVAL_SECONDS = 60
LOGIN_PATH = "/login/"


@dataclass(frozen=True, slots=True)
class SignedIn:
    user: User
    session_id: str


def browser_session_start(request, *, session) -> None:
    """Bind the browser to a new session; a fresh cookie id, so no fixation."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = session.id
    request.session[TOUCHED_KEY] = int(time.time())
    request.session.set_expiry(session.expires_at)


def browser_session_clear(request) -> None:
    request.session.flush()


@transaction.atomic
def browser_logout(*, user: User, session_id: str, actor: Actor) -> None:
    """Sign-out ends the browser's session, recorded as the API's logout is (`auth.logout`)."""
    if session_terminate(user_id=user.pk, session_id=session_id):
        activity_record(actor=actor, action="auth.logout", target_type="user", target_id=user.pk)


def signed_in(request) -> SignedIn | None:
    """The person and session this browser is signed in as, or None (a dead session is cleared)."""
    session_id = request.session.get(SESSION_KEY)
    if not isinstance(session_id, str):
        return None
    user = session_live_user(session_id=session_id)
    if user is None or user.is_system or not user.is_active or not _touched(request, session_id):
        browser_session_clear(request)
        return None
    return SignedIn(user=user, session_id=session_id)


def _touched(request, session_id: str) -> bool:
    """Mark the session used if this browser has not for a minute; False if it just died."""
    now = int(time.time())
    last = request.session.get(TOUCHED_KEY)
    if isinstance(last, int) and 0 <= now - last < TOUCH_INTERVAL_SECONDS:
        return True
    if not session_touch(session_id=session_id):
        return False
    request.session[TOUCHED_KEY] = now
    return True


def person_required(view):
    """Signed out → `/login/?next=…`; signed in → `request.person`. Never cached: the pages
    are one person's."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        person = signed_in(request)
        if person is None:
            return redirect_to_login(request.get_full_path(), LOGIN_PATH)
        request.person = person
        return view(request, *args, **kwargs)

    return never_cache(wrapper)


def page_actor(request) -> Actor:
    """The signed-in person as the actor of a write (the same events as the API's)."""
    user = request.person.user
    return Actor(
        workspace_id=user.workspace_id,
        user_id=user.pk,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:300],
    )


def safe_next(candidate: str | None) -> str:
    """Where to go after signing in: a path on this site, never another site."""
    if (
        candidate
        and candidate.startswith("/")
        and not candidate.startswith("//")
        and url_has_allowed_host_and_scheme(candidate, allowed_hosts=None)
    ):
        return candidate
    return "/"


def render_page(request, template: str, context: dict | None = None, *, status: int = 200):
    """A Settings page for the signed-in person (their name and the navigation in the header)."""
    return render(
        request,
        template,
        {"person": getattr(request, "person", None), **(context or {})},
        status=status,
    )
