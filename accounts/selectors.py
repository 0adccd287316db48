"""Reads for accounts: the lean per-request user lookup and the live sessions live here."""

import datetime as dt

from django.conf import settings
from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from accounts.models import Session, User
from parsalink.core.principal import Principal

_AUTH_COLUMNS = ", ".join(
    f"u.{column}"
    for column in (
        "id",
        "email",
        "first_name",
        "last_name",
        "workspace_id",
        "is_system",
        "is_staff",
        "is_active",
        "tokens_valid_after",
    )
)
# The session row is joined by primary key: its state costs no extra query.
_AUTH_SQL = f"""
    SELECT {_AUTH_COLUMNS}
      FROM {User._meta.db_table} u
      JOIN {Session._meta.db_table} s ON s.user_id = u.id
     WHERE u.id = %s AND s.id = %s
       AND s.ended_at IS NULL AND s.expires_at > %s AND s.last_used_at > %s
"""  # noqa: S608
_NO_IDLE_CUTOFF = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def _idle_cutoff(now: dt.datetime) -> dt.datetime:
    """Sessions last used at or before this instant are dead (JWT_SESSION_IDLE_TIMEOUT)."""
    idle = settings.JWT_SESSION_IDLE_TIMEOUT
    return now - dt.timedelta(seconds=idle) if idle > 0 else _NO_IDLE_CUTOFF


def session_live_filter(now: dt.datetime) -> Q:
    """The one definition of a live session: not ended, not expired, not idle too long."""
    return Q(ended_at__isnull=True, expires_at__gt=now, last_used_at__gt=_idle_cutoff(now))


def principal_for_token(
    *, user_id: str, session_id: str | None, issued_ms: int
) -> Principal | None:
    """The person a valid access token names, or None if they may no longer use it.

    One indexed query for exactly the columns authentication needs (no model instance): the
    session's state and the "tokens valid after" check ride on it, so ending a session or
    logging out everywhere costs no extra query per request.
    """
    if session_id is None:
        return None  # every access token we issue names its session
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(_AUTH_SQL, [user_id, session_id, now, _idle_cutoff(now)])
        row = cursor.fetchone()
    if row is None:
        return None
    uid, email, first, last, workspace_id, is_system, is_staff, is_active, valid_after = row
    if not is_active or is_system or issued_ms < valid_after:
        return None
    return Principal(
        id=uid,
        email=email,
        first_name=first,
        last_name=last,
        workspace_id=workspace_id,
        is_staff=bool(is_staff),
    )


def sessions_live_query(*, user_id: str) -> QuerySet[Session]:
    """The person's live sessions, newest first (ids are time-ordered): for paginated lists."""
    return Session.objects.filter(session_live_filter(timezone.now()), user_id=user_id).order_by(
        "-id"
    )


def sessions_live(*, user: User) -> list[Session]:
    return list(sessions_live_query(user_id=user.pk))


def session_live_user(*, session_id: str) -> User | None:
    """In one query, the active person whose live browser session this is, else None."""
    if not isinstance(session_id, str) or not session_id:
        return None
    now = timezone.now()
    live = {f"sessions__{key}": value for key, value in session_live_filter(now).children}
    return (
        User.objects.filter(
            sessions__pk=session_id,
            sessions__kind=Session.BROWSER,
            is_active=True,
            is_system=False,
            **live,
        )
        .select_related("workspace")
        .first()
    )


def user_get(*, user_id: str) -> User | None:
    return User.objects.filter(pk=user_id).first()


def user_get_by_email(*, email: str) -> User | None:
    return User.objects.filter(email=email).first()
