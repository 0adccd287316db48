"""Writes for accounts: workspaces, users, login sessions and their refresh-token families."""

import time
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from accounts import throttles, tokens
from accounts.hashing import HashingBusy
from accounts.models import RefreshTokenRecord, User, Workspace, normalize_email
from accounts.selectors import user_get_by_email
from activity.actor import Actor
from activity.services import activity_record, security_event
from parsalink.core.errors import AppError


class LoginFailed(AppError):
    """Wrong password, unknown email, inactive or system user: deliberately indistinguishable."""

    status_code = 401
    code = "invalid_credentials"
    detail = "Invalid email or password."


class RefreshRejected(AppError):
    """A refresh token that cannot be rotated (its message says why)."""

    status_code = 401
    code = "token_not_valid"
    detail = "Token is invalid or revoked."


class PasswordChangeRejected(AppError):
    """A wrong current password or a new one the validators refuse: a 400 with `fields`."""

    def __init__(self, fields: dict[str, list[str]]) -> None:
        super().__init__(fields=fields)


class PasswordGuessesExhausted(AppError):
    """The person's THROTTLE_LOGIN_PER_EMAIL budget is spent; retry after `retry_after` seconds."""

    status_code = 429
    code = "throttled"

    def __init__(self, retry_after: int) -> None:
        unit = "second" if retry_after == 1 else "seconds"
        super().__init__(
            f"Request was throttled. Expected available in {retry_after} {unit}.",
            headers={"Retry-After": str(retry_after)},
        )
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class LoginResult:
    user: User
    pair: tokens.TokenPair


# --- workspaces and users -------------------------------------------------------------------


@transaction.atomic
def workspace_create(*, name: str) -> Workspace:
    """A workspace and its system user (the principal that its API keys act as)."""
    workspace = Workspace.objects.create(name=name)
    system_user = User(
        email=f"system+{workspace.id.lower()}@parsalink.invalid",
        first_name="System",
        last_name=name[:150],
        workspace=workspace,
        is_system=True,
    )
    system_user.set_unusable_password()
    system_user.save()
    return workspace


def system_user_for(*, workspace_id: str) -> User:
    return User.objects.get(workspace_id=workspace_id, is_system=True)


@transaction.atomic
def user_create(
    *, email: str, password: str, first_name: str, last_name: str, workspace: Workspace
) -> User:
    """A person in `workspace`; the password must pass the validators (ValidationError if not)."""
    user = User(
        email=normalize_email(email),
        first_name=first_name,
        last_name=last_name,
        workspace=workspace,
    )
    validate_password(password, user)
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    return user


def _revoke_rows(records) -> int:
    """Revoke every unrevoked record of `records` (a queryset), including rows a concurrent
    rotation commits while we run.

    Under READ COMMITTED a single UPDATE misses a child inserted by a rotation that held a lock
    on its parent when our statement took its snapshot; we wait for that lock, revoke the parent,
    and the next pass sees the child. A pass that revokes nothing proves no rotation was in flight.
    """
    total = 0
    while True:
        revoked = records.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
        if not revoked:
            return total
        total += revoked


def user_tokens_revoke_all(*, user: User) -> None:
    """Access tokens issued before now die (tokens_valid_after) and every refresh family too.

    Logout-all and deactivation call it; so does User.save() whenever a new password is saved,
    whoever saves it (this API, Django admin, `changepassword`).

    The user row is locked first: a rotation holds a share lock on it while it claims and
    issues (see _claim), so once we hold the lock every in-flight rotation has committed, and
    the time we take afterwards is later than any token it issued.
    """
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
    user.tokens_valid_after = tokens.now_ms() + 1
    User.objects.filter(pk=user.pk).update(tokens_valid_after=user.tokens_valid_after)
    _revoke_rows(RefreshTokenRecord.objects.filter(user=user))


@transaction.atomic
def user_deactivate(*, user: User, actor: Actor) -> None:
    user.is_active = False
    user.save(update_fields=["is_active"])
    user_tokens_revoke_all(user=user)
    activity_record(actor=actor, action="user.deactivated", target_type="user", target_id=user.pk)


# --- login ----------------------------------------------------------------------------------

_dummy_hash: list[str] = []


def _verify_password(user: User | None, password: str) -> bool:
    """Unknown users cost the same hashing time. The hashers queue every hash on
    accounts.hashing's threads: HashingBusy if none started within LOGIN_QUEUE_TIMEOUT."""
    if user is None or not user.has_usable_password():
        if not _dummy_hash:
            _dummy_hash.append(make_password("parsalink-timing-equaliser"))
        check_password(password, _dummy_hash[0])
        return False
    return user.check_password(password)


def _start_session(user: User, *, not_before_ms: int = 0) -> tokens.TokenPair:
    """A new refresh-token family; its expiry is the life of the login session."""
    issued_ms = max(tokens.now_ms(), not_before_ms)
    issued_at = issued_ms // 1000
    refresh_jti = tokens.new_jti(issued_ms)
    record = RefreshTokenRecord.objects.create(
        jti=refresh_jti,
        family_id=refresh_jti,
        user=user,
        access_jti=tokens.new_jti(issued_ms),
        issued_at=issued_at,
        expires_at=issued_at + settings.JWT_REFRESH_TOKEN_LIFETIME,
    )
    return tokens.encode_pair(
        user_id=user.pk,
        issued_at=issued_at,
        access_jti=record.access_jti,
        refresh_jti=refresh_jti,
        refresh_exp=record.expires_at,
    )


def _record_user_event(user: User, action: str, *, ip: str | None, user_agent: str) -> None:
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


def _still_verified(user: User, *, for_update: bool = False) -> int | None:
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
            _record_user_event(user, "auth.login_failed", ip=ip, user_agent=user_agent)
    return LoginFailed()


def login(*, email: str, password: str, ip: str | None, user_agent: str) -> LoginResult:
    """Exchange credentials for a token pair; every failure is the same LoginFailed.

    The hash is checked outside any transaction (it is slow); the session starts only if, under
    the user-row lock, the password is still the one checked and the person still active.
    """
    user = user_get_by_email(email=normalize_email(email))
    candidate = user if user is not None and not user.is_system else None
    password_ok = _verify_password(candidate, password)
    if candidate is None or not password_ok or not candidate.is_active:
        raise _login_failed(user, ip=ip, user_agent=user_agent)
    with transaction.atomic():
        valid_after = _still_verified(candidate)
        if valid_after is not None:
            # A login in the same millisecond as a logout-all must not be born dead.
            pair = _start_session(candidate, not_before_ms=valid_after)
            _record_user_event(candidate, "auth.login", ip=ip, user_agent=user_agent)
            return LoginResult(user=candidate, pair=pair)
    raise _login_failed(user, ip=ip, user_agent=user_agent)


# --- refresh rotation -----------------------------------------------------------------------

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
 RETURNING family_id
"""  # noqa: S608


def _claim(*, jti: str, user_id: str, child_jti: str) -> tuple | None:
    """Mark `jti` used if it still is unused and unrevoked: (family_id, is_active, is_system,
    tokens_valid_after), or None if it could not be claimed (or its user is gone)."""
    now = timezone.now()
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(_LOCK_USER_SQL, [user_id])
            user_row = cursor.fetchone()
            if user_row is None:
                return None
            cursor.execute(_CLAIM_SQL, [now, child_jti, jti, user_id])
            claimed = cursor.fetchone()
        return None if claimed is None else (claimed[0], *user_row)
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
    family_id = RefreshTokenRecord.objects.filter(jti=jti).values_list("family_id", flat=True)[0]
    return (family_id, *user_row[0])


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
            family_id, is_active, is_system, valid_after = row
            if not is_active or is_system or claims.issued_ms < valid_after:
                raise RefreshRejected("Token is no longer valid.")
            issued_at = issued_ms // 1000
            child = RefreshTokenRecord.objects.create(
                jti=child_jti,
                family_id=family_id,
                user_id=claims.user_id,
                access_jti=tokens.new_jti(issued_ms),
                issued_at=issued_at,
                expires_at=claims.exp,
            )
            return tokens.encode_pair(
                user_id=claims.user_id,
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
                issued_at=child.issued_at,
                access_jti=child.access_jti,
                refresh_jti=child.jti,
                refresh_exp=child.expires_at,
            )
    with transaction.atomic():
        revoked = _revoke_rows(RefreshTokenRecord.objects.filter(family_id=record.family_id))
        user = record.user
        _record_user_event(user, "auth.refresh_reuse_detected", ip=ip, user_agent=user_agent)
    security_event(
        "auth.refresh_reuse_detected",
        userId=user.pk,
        familyId=record.family_id,
        revokedTokens=revoked,
        ip=ip,
    )
    raise RefreshRejected("Token was already used; its session has been revoked.")


# --- logout and password --------------------------------------------------------------------


def logout(*, raw: str, ip: str | None, user_agent: str) -> None:
    """Revoke the family of a genuine refresh token (expired or already dead is fine)."""
    claims = tokens.decode_allowing_expired(raw)  # InvalidToken for forged or garbage
    record = RefreshTokenRecord.objects.select_related("user").filter(jti=claims.jti).first()
    if record is None:
        return
    with transaction.atomic():
        revoked = _revoke_rows(RefreshTokenRecord.objects.filter(family_id=record.family_id))
        if revoked:
            _record_user_event(record.user, "auth.logout", ip=ip, user_agent=user_agent)


@transaction.atomic
def logout_all(*, user: User, actor: Actor) -> None:
    """Every refresh and access token of `user` stops working at once."""
    user_tokens_revoke_all(user=user)
    activity_record(actor=actor, action="auth.logout_all", target_type="user", target_id=user.pk)


def _current_password_matches(user: User, password: str, *, actor: Actor) -> bool:
    """Check a password-change guess against the person's login budget, charged before hashing
    (atomic: concurrent guesses cannot all pass) and refunded when the guess was right."""
    budget = throttles.login_email_budget(user.email)
    decision = budget.charge()
    if not decision.allowed:
        raise PasswordGuessesExhausted(decision.retry_after)
    try:
        matches = _verify_password(user, password)
    except HashingBusy:
        budget.refund()
        raise
    if matches:
        budget.refund()
        return True
    security_event("auth.password_change_failed", userId=user.pk, ip=actor.ip)
    with transaction.atomic():
        activity_record(
            actor=actor, action="auth.password_change_failed", target_type="user", target_id=user.pk
        )
    return False


def password_change(
    *, user: User, current_password: str, new_password: str, actor: Actor
) -> tokens.TokenPair:
    """Set a new password, end every session, and start a fresh one for the caller."""
    if not _current_password_matches(user, current_password, actor=actor):
        raise PasswordChangeRejected({"currentPassword": ["The current password is wrong."]})
    try:
        validate_password(new_password, user)
    except DjangoValidationError as exc:
        raise PasswordChangeRejected({"newPassword": list(exc.messages)}) from None
    with transaction.atomic():
        # A concurrent change that committed while we hashed wins: the current password is gone.
        if _still_verified(user, for_update=True) is None:
            raise PasswordChangeRejected({"currentPassword": ["The current password is wrong."]})
        user.set_password(new_password)
        user.save(update_fields=["password"])  # ends every session (User.save)
        pair = _start_session(user, not_before_ms=user.tokens_valid_after)
        activity_record(
            actor=actor, action="auth.password_changed", target_type="user", target_id=user.pk
        )
    return pair


# --- housekeeping ---------------------------------------------------------------------------


def refresh_tokens_purge_expired(*, batch_size: int = 5000, pause: float = 0.0) -> int:
    """Delete expired refresh-token records in bounded batches (short locks); returns the count."""
    cutoff = int(time.time())
    deleted = 0
    while True:
        batch = list(
            RefreshTokenRecord.objects.filter(expires_at__lt=cutoff).values_list("jti", flat=True)[
                :batch_size
            ]
        )
        if not batch:
            return deleted
        deleted += RefreshTokenRecord.objects.filter(jti__in=batch).delete()[0]
        if pause:
            time.sleep(pause)
