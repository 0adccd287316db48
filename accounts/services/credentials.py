"""Logout, logout-all and password change: the ways a person ends their sessions."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction

from accounts import throttles, tokens
from accounts.hashing import HashingBusy
from accounts.models import RefreshTokenRecord, User
from accounts.services import user_sessions
from accounts.services.login import (
    record_user_event,
    start_session,
    still_verified,
    verify_password,
)
from accounts.services.users import revoke_records, user_tokens_revoke_all
from activity.actor import Actor
from activity.services import activity_record, security_event
from parsalink.core.errors import AppError


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


def logout(*, raw: str, ip: str | None, user_agent: str) -> None:
    """End the session of a genuine refresh token, its access tokens included, and revoke its
    family (expired or already dead is fine)."""
    claims = tokens.decode_allowing_expired(raw)  # InvalidToken for forged or garbage
    record = RefreshTokenRecord.objects.select_related("user").filter(jti=claims.jti).first()
    if record is None:
        return
    with transaction.atomic():
        ended = record.session_id is not None and user_sessions.session_terminate(
            user_id=record.user_id, session_id=record.session_id
        )
        revoked = revoke_records(RefreshTokenRecord.objects.filter(family_id=record.family_id))
        if revoked or ended:
            record_user_event(record.user, "auth.logout", ip=ip, user_agent=user_agent)


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
        matches = verify_password(user, password)
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
        if still_verified(user, for_update=True) is None:
            raise PasswordChangeRejected({"currentPassword": ["The current password is wrong."]})
        user.set_password(new_password)
        user.save(update_fields=["password"])  # ends every session (User.save)
        _, pair = start_session(
            user, ip=actor.ip, user_agent=actor.user_agent, not_before_ms=user.tokens_valid_after
        )
        activity_record(
            actor=actor, action="auth.password_changed", target_type="user", target_id=user.pk
        )
    return pair
