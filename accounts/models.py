"""Workspaces, their people and system users, and the refresh-token records of login sessions.

A workspace's system user is never deactivated or deleted (its API keys act as it), and every
workspace is made by accounts.services.workspace_create, which gives it one.
"""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.db.models.functions import Lower
from django.utils import timezone

from parsalink.ids import ID_MAX_LENGTH, PrefixedId


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
        from accounts.services import workspace_create  # services import this module

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

    def save(self, **kwargs) -> None:
        if self.is_system and not self.is_active:
            raise SystemUserProtected(SystemUserProtected.__doc__)
        super().save(**kwargs)

    def delete(self, *args, **kwargs):
        if self.is_system:
            raise SystemUserProtected(SystemUserProtected.__doc__)
        return super().delete(*args, **kwargs)


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
