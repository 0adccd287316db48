"""Reads for accounts: the lean per-request user lookup lives here."""

from django.db import connection

from accounts.models import User
from parsalink.core.principal import Principal

_AUTH_COLUMNS = (
    "id, email, first_name, last_name, workspace_id, is_system, is_staff, is_active, "
    "tokens_valid_after"
)
_AUTH_SQL = f"SELECT {_AUTH_COLUMNS} FROM {User._meta.db_table} WHERE id = %s"  # noqa: S608


def principal_for_token(*, user_id: str, issued_ms: int) -> Principal | None:
    """The person a valid access token names, or None if they may no longer use it.

    One indexed query for exactly the columns authentication needs (no model instance): the
    "tokens valid after" check rides on it, so logout-all costs no extra query per request.
    """
    with connection.cursor() as cursor:
        cursor.execute(_AUTH_SQL, [user_id])
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


def user_get(*, user_id: str) -> User | None:
    return User.objects.filter(pk=user_id).first()


def user_get_by_email(*, email: str) -> User | None:
    return User.objects.filter(email=email).first()
