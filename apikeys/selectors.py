"""Reads for API keys: the lean per-request key lookup, and the management lists."""

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection
from django.db.models import Min, QuerySet

from accounts.models import User
from apikeys.models import ApiKey, ApiKeyUsage
from parsalink.core.ids import is_valid_id

# lastUsedAt is written at most once per this interval per key (see services.usage_record).
LAST_USED_RESOLUTION = timedelta(minutes=1)

# One indexed query (the key's primary key, then the partial unique index on the workspace's
# system user) for exactly the columns authentication needs. The time comparisons run in SQL so
# the same code works on PostgreSQL and on SQLite, whose raw cursors return datetimes as text.
# An inactive system user joins as none: its keys fail closed. Parameters: now, now minus
# LAST_USED_RESOLUTION, the key id. apikeys.services carries it as a CTE (it selects k.id too).
AUTH_SQL = f"""
SELECT k.secret_hash, k.workspace_id,
       k.revoked_at IS NOT NULL AS is_revoked,
       k.expires_at IS NOT NULL AND k.expires_at <= %s AS is_expired,
       k.last_used_at IS NULL OR k.last_used_at < %s AS last_used_is_stale,
       u.id AS user_id, u.email, u.first_name, u.last_name,
       k.scopes, k.allowed_ips, k.id
FROM {ApiKey._meta.db_table} k
LEFT JOIN {User._meta.db_table} u
       ON u.workspace_id = k.workspace_id AND u.is_system AND u.is_active
WHERE k.id = %s
"""  # noqa: S608 (table names only; values are parameters)
AUTH_COLUMNS = 12


@dataclass(frozen=True, slots=True)
class KeyAuthRow:
    secret_hash: str
    workspace_id: str
    is_revoked: bool
    is_expired: bool
    last_used_is_stale: bool
    system_user_id: str | None
    system_user_email: str
    system_user_first_name: str
    system_user_last_name: str
    scopes: tuple[str, ...]
    allowed_ips: tuple[str, ...]


def _json_list(value) -> tuple[str, ...]:
    """A JSON column as the raw cursor returns it (text on SQLite and under Django's psycopg
    loaders, a list otherwise); anything unexpected is an empty tuple, which grants nothing."""
    if isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except ValueError:
            return ()
    if not isinstance(value, list):
        return ()
    return tuple(item for item in value if isinstance(item, str))


def auth_params(*, key_id: str, now: datetime) -> list:
    adapt = connection.ops.adapt_datetimefield_value
    return [adapt(now), adapt(now - LAST_USED_RESOLUTION), key_id]


def auth_row(values) -> KeyAuthRow:
    """A KeyAuthRow from AUTH_SQL's columns."""
    secret_hash, workspace_id, revoked, expired, stale, uid, email, first, last, scopes, ips = (
        values[: AUTH_COLUMNS - 1]
    )
    return KeyAuthRow(
        secret_hash=secret_hash,
        workspace_id=workspace_id,
        is_revoked=bool(revoked),
        is_expired=bool(expired),
        last_used_is_stale=bool(stale),
        system_user_id=uid,
        system_user_email=email or "",
        system_user_first_name=first or "",
        system_user_last_name=last or "",
        scopes=_json_list(scopes),
        allowed_ips=_json_list(ips),
    )


def api_key_auth_row(*, key_id: str, now: datetime) -> KeyAuthRow | None:
    """The key's state and its workspace's system user, read fresh (no cache: revocation is
    immediate on every worker), or None for an unknown key id."""
    with connection.cursor() as cursor:
        cursor.execute(AUTH_SQL, auth_params(key_id=key_id, now=now))
        row = cursor.fetchone()
    return None if row is None else auth_row(row)


def api_key_list(*, workspace_id: str) -> QuerySet[ApiKey]:
    """One workspace's keys (index apikeys_apikey_ws_idx serves the newest-first list)."""
    return ApiKey.objects.filter(workspace_id=workspace_id)


def api_key_get(*, workspace_id: str, key_id: str) -> ApiKey | None:
    """A key of this workspace, or None (another workspace's key is indistinguishable from none)."""
    if not is_valid_id(key_id, "key"):
        return None
    return ApiKey.objects.filter(workspace_id=workspace_id, pk=key_id).first()


def api_key_usage_list(*, api_key_id: str) -> QuerySet[ApiKeyUsage]:
    """One key's usage log (index apikeys_usage_key_idx serves it newest first)."""
    return ApiKeyUsage.objects.filter(api_key_id=api_key_id)


def api_key_state(api_key: ApiKey, *, now: datetime) -> str:
    """`revoked`, `expired`, `expiring` (a rolled or dated key still working) or `active`."""
    if api_key.revoked_at is not None:
        return "revoked"
    if api_key.expires_at is not None:
        return "expired" if api_key.expires_at <= now else "expiring"
    return "active"


@dataclass(frozen=True, slots=True)
class UsageFlags:
    """What an owner looks for in a key's usage log to spot misuse."""

    new_address: bool
    new_user_agent: bool
    failed: bool
    after_revocation: bool
    after_expiry: bool

    @property
    def any(self) -> bool:
        return (
            self.new_address
            or self.new_user_agent
            or self.failed
            or self.after_revocation
            or self.after_expiry
        )


def usage_flags(*, api_key: ApiKey, rows: list[ApiKeyUsage]) -> list[UsageFlags]:
    """Flags for `rows` (one page of the key's log): two grouped queries, each an index scan.

    A row is the key's first from its address (or user agent) when no older row of the key has
    the same one.
    """
    ips = {row.ip for row in rows if row.ip}
    agents = {row.user_agent for row in rows}
    first_from_ip = dict(
        api_key_usage_list(api_key_id=api_key.pk)
        .filter(ip__in=ips)
        .values("ip")
        .annotate(first=Min("id"))
        .values_list("ip", "first")
    )
    first_from_agent = dict(
        api_key_usage_list(api_key_id=api_key.pk)
        .filter(user_agent__in=agents)
        .values("user_agent")
        .annotate(first=Min("id"))
        .values_list("user_agent", "first")
    )
    revoked_at, expires_at = api_key.revoked_at, api_key.expires_at
    return [
        UsageFlags(
            new_address=bool(row.ip) and first_from_ip.get(row.ip) == row.id,
            new_user_agent=first_from_agent.get(row.user_agent) == row.id,
            failed=400 <= row.status < 500,
            after_revocation=revoked_at is not None and row.created_at >= revoked_at,
            after_expiry=expires_at is not None and row.created_at >= expires_at,
        )
        for row in rows
    ]
