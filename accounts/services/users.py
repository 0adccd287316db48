"""Workspaces and the people in them; ending every session of a person."""

from django.contrib.auth.password_validation import validate_password
from django.db import transaction
from django.utils import timezone

from accounts import tokens
from accounts.models import RefreshTokenRecord, User, Workspace, normalize_email
from accounts.services import user_sessions
from activity.actor import Actor
from activity.services import activity_record


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


def revoke_records(records) -> int:
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
    issues (refresh.py, _claim), so once we hold the lock every in-flight rotation has
    committed, and the time we take afterwards is later than any token it issued.
    """
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
    user.tokens_valid_after = tokens.now_ms() + 1
    User.objects.filter(pk=user.pk).update(tokens_valid_after=user.tokens_valid_after)
    user_sessions.sessions_end_all(user=user)
    revoke_records(RefreshTokenRecord.objects.filter(user=user))


@transaction.atomic
def user_deactivate(*, user: User, actor: Actor) -> None:
    user.is_active = False
    user.save(update_fields=["is_active"])
    user_tokens_revoke_all(user=user)
    activity_record(actor=actor, action="user.deactivated", target_type="user", target_id=user.pk)
