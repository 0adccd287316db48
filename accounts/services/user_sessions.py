"""Writes for login sessions: start one, keep it alive, end one, all but one, or all.

A session is what a person sees and ends (`/api/auth/sessions/`, Settings → Sessions). Its
state rides on every JWT request's one principal query (access tokens carry its id as `sid`),
so ending it kills its access tokens at once; its refresh tokens are revoked with it.

Every ending locks the user row FOR UPDATE first. A rotation holds FOR KEY SHARE on that row
while it claims a token and continues its session, so an ending never interleaves with a
rotation: either the rotation committed first (and its child is revoked here) or it runs after
and finds the session ended. Both lock user row → session → refresh records, in that order.
"""

import datetime as dt
import time

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import RefreshTokenRecord, Session, User
from accounts.selectors import session_live_filter
from activity.actor import Actor
from activity.services import activity_record
from parsalink.core.ids import is_valid_id

SESSION_REVOKED = "auth.session_revoked"


class SessionNotFound(Exception):
    """Not one of the person's live sessions (another person's, ended, expired or garbage)."""

    status_code = 404
    code = "not_found"
    detail = "No such session."


def session_start(*, user: User, ip: str | None, user_agent: str, kind: str) -> Session:
    """A new session of `user`; it lives JWT_REFRESH_TOKEN_LIFETIME from now, however used."""
    if kind not in (Session.API, Session.BROWSER):
        raise ValueError(f"unknown session kind {kind!r}")
    now = timezone.now()
    # Whole seconds: the refresh tokens' `exp` is exactly this instant.
    expires_at = now.replace(microsecond=0) + dt.timedelta(
        seconds=settings.JWT_REFRESH_TOKEN_LIFETIME
    )
    return Session.objects.create(
        user=user,
        kind=kind,
        created_at=now,
        last_used_at=now,
        expires_at=expires_at,
        ip=ip,
        user_agent=(user_agent or "")[:300],
    )


def browser_login(
    *, email: str, password: str, ip: str | None, user_agent: str
) -> tuple[User, Session]:
    """The API's login service (same checks, events and failures) starting a browser session
    and issuing no tokens. The caller applies the login throttles, as the API view does."""
    from accounts.services import login  # login imports this module

    result = login.login(
        email=email, password=password, ip=ip, user_agent=user_agent, kind=Session.BROWSER
    )
    return result.user, result.session


def session_touch(*, session_id: str) -> bool:
    """Mark a live session used now (rotation; idle timeout counts from it); False if dead."""
    now = timezone.now()
    live = Session.objects.filter(session_live_filter(now), pk=session_id)
    return bool(live.update(last_used_at=now))


def _lock_user(user_id: str) -> None:
    list(User.objects.select_for_update().filter(pk=user_id).values_list("pk", flat=True))


def _end(sessions) -> list[str]:
    """End `sessions` (a queryset, under the user lock) and revoke their refresh tokens."""
    now = timezone.now()
    ids = list(sessions.filter(ended_at__isnull=True).values_list("pk", flat=True))
    if ids:
        Session.objects.filter(pk__in=ids).update(ended_at=now)
        RefreshTokenRecord.objects.filter(session_id__in=ids, revoked_at__isnull=True).update(
            revoked_at=now
        )
    return ids


def _record_revoked(actor: Actor, session_id: str) -> None:
    activity_record(
        actor=actor, action=SESSION_REVOKED, target_type="session", target_id=session_id
    )


@transaction.atomic
def session_end(*, user: User, session_id: str, actor: Actor) -> None:
    """End one of the person's live sessions; SessionNotFound if it is not one."""
    if not is_valid_id(session_id, "ses"):
        raise SessionNotFound()
    _lock_user(user.pk)
    live = Session.objects.filter(session_live_filter(timezone.now()), user=user, pk=session_id)
    if not _end(live):
        raise SessionNotFound()
    _record_revoked(actor, session_id)


@transaction.atomic
def sessions_end_others(*, user: User, keep_session_id: str | None, actor: Actor) -> int:
    """End every live session of the person but `keep_session_id`; returns how many ended."""
    _lock_user(user.pk)
    live = Session.objects.filter(session_live_filter(timezone.now()), user=user)
    if keep_session_id is not None:
        live = live.exclude(pk=keep_session_id)
    ended = _end(live)
    for session_id in ended:
        _record_revoked(actor, session_id)
    return len(ended)


def session_terminate(*, user_id: str, session_id: str) -> bool:
    """End a session whatever its state, recording nothing (logout and reuse detection record
    their own event); True if it was still open."""
    with transaction.atomic():
        _lock_user(user_id)
        return bool(_end(Session.objects.filter(user_id=user_id, pk=session_id)))


def sessions_end_all(*, user: User) -> None:
    """Every session of `user` ends; the caller holds the user-row lock (logout-all, password
    change, deactivation)."""
    _end(Session.objects.filter(user=user))


def sessions_purge_expired(*, batch_size: int = 5000, pause: float = 0.0) -> int:
    """Delete expired sessions (their refresh records go with them) in bounded batches."""
    deleted = 0
    while True:
        expired = Session.objects.filter(expires_at__lt=timezone.now())
        batch = list(expired.values_list("pk", flat=True)[:batch_size])
        if not batch:
            return deleted
        with transaction.atomic():
            RefreshTokenRecord.objects.filter(session_id__in=batch).delete()
            deleted += Session.objects.filter(pk__in=batch).delete()[0]
        if pause:
            time.sleep(pause)
