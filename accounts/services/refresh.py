"""Refresh rotation: single use by one atomic claim, reuse revokes the family."""

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts import tokens
from accounts.models import RefreshTokenRecord, User
from accounts.services import user_sessions
from accounts.services.login import record_user_event
from accounts.services.users import revoke_records
from activity.services import security_event
from parsalink.core.errors import AppError


class RefreshRejected(AppError):
    """A refresh token that cannot be rotated (its message says why)."""

    status_code = 401
    code = "token_not_valid"
    detail = "Token is invalid or revoked."


# A rotation first takes a share lock on its user row, so logout-all, password change and
# deactivation (which lock that row FOR UPDATE) serialise with it instead of racing it.
# FOR KEY SHARE is the weakest lock that still conflicts with FOR UPDATE; ordinary updates of
# the user row (last login, names) do not wait for it.
_LOCK_USER_SQL = f"""
    SELECT is_active, is_system, tokens_valid_after
      FROM {User._meta.db_table} WHERE id = %s FOR KEY SHARE
"""  # noqa: S608
# Single use: of N concurrent claims of one jti, the row lock lets exactly one match; the others
# re-check `used_at IS NULL` after it commits and match nothing.
_CLAIM_SQL = f"""
    UPDATE {RefreshTokenRecord._meta.db_table}
       SET used_at = %s, replaced_by = %s
     WHERE jti = %s AND user_id = %s AND used_at IS NULL AND revoked_at IS NULL
 RETURNING family_id, session_id
"""  # noqa: S608


def _claim(*, jti: str, user_id: str, child_jti: str) -> tuple | None:
    """Mark `jti` used if it still is unused and unrevoked: (family_id, session_id, is_active,
    is_system, tokens_valid_after), or None if it could not be claimed (or its user is gone)."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_LOCK_USER_SQL, [user_id])
            user_row = cursor.fetchone()
            if user_row is None:
                return None
            cursor.execute(_CLAIM_SQL, [now, child_jti, jti, user_id])
            claimed = cursor.fetchone()
        return None if claimed is None else (*claimed, *user_row)
    # SQLite (quick start only) has neither FOR SHARE nor concurrent writers: plain ORM.
    user_row = User.objects.filter(pk=user_id).values_list(
        "is_active", "is_system", "tokens_valid_after"
    )
    if not user_row:
        return None
    claimed = RefreshTokenRecord.objects.filter(
        jti=jti, user_id=user_id, used_at__isnull=True, revoked_at__isnull=True
    ).update(used_at=now, replaced_by=child_jti)
    if not claimed:
        return None
    claimed_row = RefreshTokenRecord.objects.filter(jti=jti).values_list("family_id", "session_id")
    return (*claimed_row[0], *user_row[0])


def token_refresh(*, raw: str, ip: str | None, user_agent: str) -> tokens.TokenPair:
    """Rotate a refresh token: claim it for single use in one atomic UPDATE, issue its child.

    Of N simultaneous refreshes exactly one UPDATE matches (the row lock serialises them and
    the losers re-check `used_at IS NULL`); the losers are reuse, or retries within the grace.
    """
    try:
        claims = tokens.decode(raw, tokens.REFRESH)
    except tokens.InvalidToken as exc:
        raise RefreshRejected(exc.detail) from None
    # Never earlier than its parent, which passed the tokens_valid_after check: a child issued
    # on a machine whose clock lags must not be born dead.
    issued_ms = max(tokens.now_ms(), claims.issued_ms)
    child_jti = tokens.new_jti(issued_ms)
    with transaction.atomic():
        row = _claim(jti=claims.jti, user_id=claims.user_id, child_jti=child_jti)
        if row is not None:
            family_id, session_id, is_active, is_system, valid_after = row
            if not is_active or is_system or claims.issued_ms < valid_after:
                raise RefreshRejected("Token is no longer valid.")
            # Ended, expired or idle too long: the session (and so this token) is dead.
            if session_id is None or not user_sessions.session_touch(session_id=session_id):
                raise RefreshRejected("Token is no longer valid.")
            issued_at = issued_ms // 1000
            child = RefreshTokenRecord.objects.create(
                jti=child_jti,
                family_id=family_id,
                user_id=claims.user_id,
                session_id=session_id,
                access_jti=tokens.new_jti(issued_ms),
                issued_at=issued_at,
                expires_at=claims.exp,
            )
            return tokens.encode_pair(
                user_id=claims.user_id,
                session_id=session_id,
                issued_at=issued_at,
                access_jti=child.access_jti,
                refresh_jti=child_jti,
                refresh_exp=claims.exp,
            )
    return _replay_or_reuse(claims, ip=ip, user_agent=user_agent)


def _replay_or_reuse(claims: tokens.Claims, *, ip: str | None, user_agent: str):
    """A token that could not be claimed: a retry within the grace, or reuse (revoke family)."""
    record = RefreshTokenRecord.objects.select_related("user").filter(jti=claims.jti).first()
    if record is None or record.used_at is None:
        raise RefreshRejected("Token is invalid or revoked.")
    grace = settings.JWT_REFRESH_REUSE_GRACE
    if record.revoked_at is None and grace > 0:
        age = (timezone.now() - record.used_at).total_seconds()
        child = RefreshTokenRecord.objects.filter(
            jti=record.replaced_by, used_at__isnull=True, revoked_at__isnull=True
        ).first()
        if age <= grace and child is not None:
            return tokens.encode_pair(
                user_id=child.user_id,
                session_id=child.session_id,
                issued_at=child.issued_at,
                access_jti=child.access_jti,
                refresh_jti=child.jti,
                refresh_exp=child.expires_at,
            )
    with transaction.atomic():
        if record.session_id is not None:  # its access tokens die too, the thief's included
            user_sessions.session_terminate(user_id=record.user_id, session_id=record.session_id)
        revoked = revoke_records(RefreshTokenRecord.objects.filter(family_id=record.family_id))
        user = record.user
        record_user_event(user, "auth.refresh_reuse_detected", ip=ip, user_agent=user_agent)
    security_event(
        "auth.refresh_reuse_detected",
        userId=user.pk,
        familyId=record.family_id,
        revokedTokens=revoked,
        ip=ip,
    )
    raise RefreshRejected("Token was already used; its session has been revoked.")
