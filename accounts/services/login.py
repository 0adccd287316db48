"""Login: credentials checked off the request's lock, a new session started under it."""

from dataclasses import dataclass

from django.contrib.auth.hashers import check_password, make_password
from django.db import connection, transaction
from django.utils.crypto import constant_time_compare

from accounts import tokens
from accounts.models import RefreshTokenRecord, Session, User, normalize_email
from accounts.selectors import user_get_by_email
from accounts.services import user_sessions
from activity.actor import Actor
from activity.services import activity_record, security_event
from parsalink.core.errors import AppError


class LoginFailed(AppError):
    """Wrong password, unknown email, inactive or system user: deliberately indistinguishable."""

    status_code = 401
    code = "invalid_credentials"
    detail = "Invalid email or password."


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User
    session: Session
    pair: tokens.TokenPair | None  # None for a browser sign-in (its session is the cookie's)


_dummy_hash: list[str] = []


def verify_password(user: User | None, password: str) -> bool:
    """Unknown users cost the same hashing time. The hashers queue every hash on
    accounts.hashing's threads: HashingBusy if none started within LOGIN_QUEUE_TIMEOUT."""
    if user is None or not user.has_usable_password():
        if not _dummy_hash:
            _dummy_hash.append(make_password("parsalink-timing-equaliser"))
        check_password(password, _dummy_hash[0])
        return False
    return user.check_password(password)


def start_session(
    user: User, *, ip: str | None, user_agent: str, kind: str = Session.API, not_before_ms: int = 0
) -> tuple[Session, tokens.TokenPair | None]:
    """A new session; for an API login also its refresh-token family, whose expiry is the
    session's."""
    session = user_sessions.session_start(user=user, ip=ip, user_agent=user_agent, kind=kind)
    if kind != Session.API:
        return session, None
    issued_ms = max(tokens.now_ms(), not_before_ms)
    issued_at = issued_ms // 1000
    refresh_jti = tokens.new_jti(issued_ms)
    record = RefreshTokenRecord.objects.create(
        jti=refresh_jti,
        family_id=refresh_jti,
        user=user,
        session=session,
        access_jti=tokens.new_jti(issued_ms),
        issued_at=issued_at,
        expires_at=int(session.expires_at.timestamp()),
    )
    return session, tokens.encode_pair(
        user_id=user.pk,
        session_id=session.pk,
        issued_at=issued_at,
        access_jti=record.access_jti,
        refresh_jti=refresh_jti,
        refresh_exp=record.expires_at,
    )


def record_user_event(user: User, action: str, *, ip: str | None, user_agent: str) -> None:
    """An event about `user`, by `user`, in their workspace (login-type views have no caller)."""
    actor = Actor(workspace_id=user.workspace_id, user_id=user.pk, ip=ip, user_agent=user_agent)
    activity_record(actor=actor, action=action, target_type="user", target_id=user.pk)


# A login re-reads its user under this lock before it starts a session. FOR KEY SHARE, like a
# rotation (_claim): a password change or deactivation locks the row FOR UPDATE, so it either
# committed before and is seen here, or waits for this login to commit and then ends its session.
_LOGIN_RECHECK_SQL = f"""
    SELECT password, is_active, tokens_valid_after
      FROM {User._meta.db_table} WHERE id = %s FOR KEY SHARE
"""  # noqa: S608


def still_verified(user: User, *, for_update: bool = False) -> int | None:
    """Under the user-row lock: the person's tokens_valid_after if their password hash is still
    the one just verified and they are still active, else None (changed while we hashed)."""
    if connection.vendor == "postgresql" and not for_update:
        with connection.cursor() as cursor:
            cursor.execute(_LOGIN_RECHECK_SQL, [user.pk])
            row = cursor.fetchone()
    else:  # FOR UPDATE on PostgreSQL; SQLite (quick start only) serialises writers anyway.
        rows = User.objects.filter(pk=user.pk).values_list(
            "password", "is_active", "tokens_valid_after"
        )
        row = (rows.select_for_update() if for_update else rows).first()
    if row is None or not row[1] or not constant_time_compare(row[0], user.password):
        return None
    return row[2]


def _login_failed(user: User | None, *, ip: str | None, user_agent: str) -> LoginFailed:
    security_event("auth.login_failed", userId=getattr(user, "pk", None), ip=ip)
    if user is not None:
        with transaction.atomic():
            record_user_event(user, "auth.login_failed", ip=ip, user_agent=user_agent)
    return LoginFailed()


def login(
    *, email: str, password: str, ip: str | None, user_agent: str, kind: str = Session.API
) -> LoginResult:
    """Exchange credentials for a session (and, for the API, a token pair); every failure is
    the same LoginFailed.

    The hash is checked outside any transaction (it is slow); the session starts only if, under
    the user-row lock, the password is still the one checked and the person still active.
    """
    user = user_get_by_email(email=normalize_email(email))
    candidate = user if user is not None and not user.is_system else None
    password_ok = verify_password(candidate, password)
    if candidate is None or not password_ok or not candidate.is_active:
        raise _login_failed(user, ip=ip, user_agent=user_agent)
    with transaction.atomic():
        valid_after = still_verified(candidate)
        if valid_after is not None:
            # A login in the same millisecond as a logout-all must not be born dead.
            session, pair = start_session(
                candidate, ip=ip, user_agent=user_agent, kind=kind, not_before_ms=valid_after
            )
            record_user_event(candidate, "auth.login", ip=ip, user_agent=user_agent)
            return LoginResult(user=candidate, session=session, pair=pair)
    raise _login_failed(user, ip=ip, user_agent=user_agent)
