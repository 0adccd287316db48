"""Workspaces, their people and system users, their sessions and the refresh-token records.

Two account rules live on the model because every path that writes a user (the API, Django admin,
`changepassword`, `createsuperuser`, any service) goes through it:
- a saved new password, or none, ends every session of the person in the same transaction;
  Django's hash upgrade at login is not a new password and is a compare-and-swap, so it never
  writes back a password that was changed while the login was hashing;
- a workspace's system user is never deactivated or deleted (its API keys act as it).
"""

from asgiref.sync import sync_to_async
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from parsalink.core.ids import ID_MAX_LENGTH, PrefixedId


class Workspace(models.Model):
    id = models.CharField(
        primary_key=True, max_length=ID_MAX_LENGTH, default=PrefixedId("ws"), editable=False
    )
    name = models.CharField(max_length=200)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    def __str__(self) -> str:
        return f"{self.name} ({self.id})"


def normalize_email(email: str) -> str:
    """Emails are stored lowercased and trimmed: the login is case-insensitive."""
    return email.strip().lower()


class SystemUserProtected(Exception):
    """A workspace's system user cannot be deactivated or deleted: revoke its keys instead."""


class UserManager(BaseUserManager):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields) -> "User":
        """A person; without a workspace, a new one from the workspace service (createsuperuser)."""
        from accounts.services.users import workspace_create  # it imports this module

        with transaction.atomic(using=self._db):
            if "workspace" not in fields and "workspace_id" not in fields:
                fields["workspace"] = workspace_create(name=normalize_email(email))
            user = self.model(email=normalize_email(email), **fields)
            user.set_password(password)
            user.full_clean(exclude=["password"])
            user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields) -> "User":
        fields.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    id = models.CharField(
        primary_key=True, max_length=ID_MAX_LENGTH, default=PrefixedId("usr"), editable=False
    )
    email = models.EmailField(max_length=254, unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="users")
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    # The workspace's API-key principal: requests made with a key act as it. It can never log in.
    is_system = models.BooleanField(default=False)
    # Unix time in milliseconds; a token issued earlier (its jti is a ULID, which carries the
    # issue time to the millisecond) is refused. Read with the user on every JWT request, so
    # logout-all, password change and deactivation kill access tokens at no extra query.
    tokens_valid_after = models.BigIntegerField(default=0, editable=False)
    date_joined = models.DateTimeField(default=timezone.now, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(email=Lower("email")), name="accounts_user_email_lowercase"
            ),
            models.UniqueConstraint(
                fields=["workspace"],
                condition=models.Q(is_system=True),
                name="accounts_user_one_system_user_per_workspace",
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)
        if self.is_system and not self.is_active:
            raise ValidationError({"is_active": SystemUserProtected.__doc__})

    def set_password(self, raw_password: str | None) -> None:
        super().set_password(raw_password)
        self._password_replaced = True

    def set_unusable_password(self) -> None:
        super().set_unusable_password()
        self._password_replaced = True

    def check_password(self, raw_password: str) -> bool:
        """Django's check, with its hash upgrade as a compare-and-swap (see _upgrade_hash)."""
        return check_password(raw_password, self.password, self._upgrade_hash)

    async def acheck_password(self, raw_password: str) -> bool:
        return await sync_to_async(self.check_password)(raw_password)

    def _upgrade_hash(self, raw_password: str) -> None:
        """Re-hash with the current hasher only if the stored hash is still the one verified: a
        password changed meanwhile wins. Not a password change (no session ends)."""
        upgraded = make_password(raw_password)
        rows = type(self)._default_manager.filter(pk=self.pk)
        if rows.filter(password=self.password).update(password=upgraded):
            self.password = upgraded
            return
        # The row changed since we read it. A concurrent login's upgrade of this same password
        # keeps our check valid (one more hash, once); a new password does not.
        current = rows.values_list("password", flat=True).first()
        if current is not None and check_password(raw_password, current):
            self.password = current

    def save(self, **kwargs) -> None:
        """Guard the system user; a new password (or none) saved ends every older token.

        tokens_valid_after is written only by user_tokens_revoke_all: a full save of a copy
        loaded before a logout-all must not bring the tokens it killed back to life.
        """
        if self.is_system and not self.is_active:
            raise SystemUserProtected(SystemUserProtected.__doc__)
        if kwargs.get("update_fields") is None and not self._state.adding:
            deferred = self.get_deferred_fields()
            kwargs["update_fields"] = [f for f in _FIELDS_A_FULL_SAVE_WRITES if f not in deferred]
        update_fields = kwargs.get("update_fields")
        writes_password = update_fields is None or "password" in update_fields
        replaced = getattr(self, "_password_replaced", False)
        ends_sessions = writes_password and replaced and not self._state.adding
        with transaction.atomic(using=kwargs.get("using")):
            super().save(**kwargs)
            if ends_sessions:
                from accounts.services.users import user_tokens_revoke_all  # it imports this

                user_tokens_revoke_all(user=self)
        if writes_password:
            self._password_replaced = False

    def delete(self, *args, **kwargs):
        if self.is_system:
            raise SystemUserProtected(SystemUserProtected.__doc__)
        return super().delete(*args, **kwargs)


_FIELDS_A_FULL_SAVE_WRITES = tuple(
    field.attname
    for field in User._meta.concrete_fields
    if not field.primary_key and field.name != "tokens_valid_after"
)


class Session(models.Model):
    """One sign-in of a person (API login or browser), continued by its refresh rotations.

    Its state rides on every JWT request's principal lookup (access tokens carry its id as
    `sid`), so ending it (`ended_at`) kills its access tokens at once, not only its refresh tokens.
    """

    API = "api"
    BROWSER = "browser"
    KINDS = [(API, "API login"), (BROWSER, "Browser sign-in")]

    id = models.CharField(
        primary_key=True, max_length=ID_MAX_LENGTH, default=PrefixedId("ses"), editable=False
    )
    # Indexed by accounts_session_user_idx, which starts with it (no separate FK index).
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="sessions", db_index=False
    )
    kind = models.CharField(max_length=8, choices=KINDS)
    created_at = models.DateTimeField(default=timezone.now)
    # The login or the latest refresh; JWT_SESSION_IDLE_TIMEOUT is measured from it.
    last_used_at = models.DateTimeField(default=timezone.now)
    # Login + JWT_REFRESH_TOKEN_LIFETIME: rotations never extend it.
    expires_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    # Of the login.
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        indexes = [
            # A person's live sessions, newest first (ids are time-ordered ULIDs).
            models.Index(fields=["user", "-id"], name="accounts_session_user_idx"),
            # The clean-up command deletes expired sessions in batches.
            models.Index(fields=["expires_at"], name="accounts_session_expires_idx"),
        ]

    def __str__(self) -> str:
        return self.id


class RefreshTokenRecord(models.Model):
    """One issued refresh token, recorded by its `jti` only (never the token itself).

    A login starts a family (`family_id` = the first jti); each rotation claims the presented
    record (`used_at`) in one atomic UPDATE and adds a child that keeps the family's expiry.
    `access_jti` and `issued_at` let a retried rotation re-sign the identical pair (HS256 is
    deterministic) without storing tokens.
    """

    jti = models.CharField(primary_key=True, max_length=26)
    family_id = models.CharField(max_length=26)
    # Indexed by accounts_rt_user_idx, which starts with it (no separate FK index).
    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="refresh_tokens", db_index=False
    )
    access_jti = models.CharField(max_length=26)
    # Unix times in seconds, exactly the JWT's iat and exp (the family's expiry, set at login).
    issued_at = models.BigIntegerField()
    expires_at = models.BigIntegerField()
    used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    replaced_by = models.CharField(max_length=26, blank=True, default="")
    # The login session the family continues (null only for rows of families that had ended
    # before sessions existed: such a token can never be rotated).
    session = models.ForeignKey(
        Session, null=True, blank=True, on_delete=models.CASCADE, related_name="refresh_tokens"
    )

    class Meta:
        indexes = [
            # Revoking a family on reuse detection or logout.
            models.Index(fields=["family_id"], name="accounts_rt_family_idx"),
            # Revoking every session of a user (logout-all, password change).
            models.Index(fields=["user", "revoked_at"], name="accounts_rt_user_idx"),
            # The clean-up command deletes expired records in batches.
            models.Index(fields=["expires_at"], name="accounts_rt_expires_idx"),
        ]

    def __str__(self) -> str:
        return self.jti
