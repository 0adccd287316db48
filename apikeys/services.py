"""Writes for API keys: create, update, revoke and roll (each with its activity event), and usage
rows."""

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone

from activity.actor import Actor
from activity.services import activity_record
from apikeys import crypto
from apikeys.models import ApiKey, ApiKeyUsage
from apikeys.scopes import clean_allowed_ips, clean_scopes, default_scopes
from apikeys.selectors import (
    AUTH_COLUMNS,
    AUTH_SQL,
    LAST_USED_RESOLUTION,
    KeyAuthRow,
    auth_params,
    auth_row,
)
from parsalink.core import ratelimit
from parsalink.core.errors import AppError
from parsalink.core.ratelimit import PG_SYNC_OFF, Decision

MAX_ROLL_OVERLAP_SECONDS = 7 * 24 * 3600


class KeyAlreadyRevoked(AppError):
    """A revoked key cannot be rolled (its integrations are already cut off)."""

    status_code = 409
    code = "key_revoked"
    detail = "The API key is revoked; create a new key instead."


@dataclass(frozen=True, slots=True)
class CreatedKey:
    api_key: ApiKey
    # The full key: returned to the caller once and never stored or logged.
    plain: str


def _create(
    *,
    workspace_id: str,
    name: str,
    expires_at: datetime | None,
    created_by_id: str | None,
    scopes: list[str],
    allowed_ips: list[str],
) -> CreatedKey:
    new = crypto.generate()
    api_key = ApiKey.objects.create(
        id=new.key_id,
        workspace_id=workspace_id,
        name=name,
        secret_hash=new.secret_hash,
        last_four=new.last_four,
        created_by_id=created_by_id,
        expires_at=expires_at,
        scopes=scopes,
        allowed_ips=allowed_ips,
    )
    return CreatedKey(api_key=api_key, plain=new.plain)


@transaction.atomic
def api_key_create(
    *,
    actor: Actor,
    name: str,
    expires_at: datetime | None = None,
    scopes: list[str] | None = None,
    allowed_ips: list[str] | None = None,
) -> CreatedKey:
    """A new key in the actor's workspace; the plain key is in the result and nowhere else.

    Without `scopes` the key gets all of them; without `allowed_ips`, any address.
    """
    clean_scopes_ = default_scopes() if scopes is None else clean_scopes(scopes)
    clean_ips = [] if allowed_ips is None else clean_allowed_ips(allowed_ips)
    created = _create(
        workspace_id=actor.workspace_id,
        name=name,
        expires_at=expires_at,
        created_by_id=actor.user_id,
        scopes=clean_scopes_,
        allowed_ips=clean_ips,
    )
    changes = ["name"]
    if expires_at:
        changes.append("expires_at")
    if scopes is not None:
        changes.append("scopes")
    if clean_ips:
        changes.append("allowed_ips")
    activity_record(
        actor=actor,
        action="api_key.created",
        target_type="api_key",
        target_id=created.api_key.pk,
        changes=changes,
    )
    return created


@transaction.atomic
def api_key_update(
    *,
    api_key: ApiKey,
    actor: Actor,
    name: str | None = None,
    scopes: list[str] | None = None,
    allowed_ips: list[str] | None = None,
) -> ApiKey:
    """Change a key's name, scopes or allowlist; in force from its next request (no cache).

    Records `api_key.updated` with the names of the fields that changed (none changed: no event).
    """
    new_values: dict = {}
    if name is not None:
        new_values["name"] = name
    if scopes is not None:
        new_values["scopes"] = clean_scopes(scopes)
    if allowed_ips is not None:
        new_values["allowed_ips"] = clean_allowed_ips(allowed_ips)
    locked = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    changed = [field for field, value in new_values.items() if getattr(locked, field) != value]
    if changed:
        for field in changed:
            setattr(locked, field, new_values[field])
        locked.save(update_fields=changed)
        activity_record(
            actor=actor,
            action="api_key.updated",
            target_type="api_key",
            target_id=locked.pk,
            changes=changed,
        )
    return locked


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor: Actor) -> ApiKey:
    """Revoke at once (idempotent): the next request with the key, on any worker, is a 401."""
    locked = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        activity_record(
            actor=actor,
            action="api_key.revoked",
            target_type="api_key",
            target_id=locked.pk,
            changes=["revoked_at"],
        )
    return locked


@transaction.atomic
def api_key_roll(*, api_key: ApiKey, actor: Actor, overlap_seconds: int) -> CreatedKey:
    """A new key with the same name; the old one keeps working `overlap_seconds` more (never
    longer than it would have anyway)."""
    if not 0 <= overlap_seconds <= MAX_ROLL_OVERLAP_SECONDS:
        raise ValueError("overlap_seconds out of range")
    old = ApiKey.objects.select_for_update().get(pk=api_key.pk)
    if old.revoked_at is not None:
        raise KeyAlreadyRevoked
    now = timezone.now()
    ends = now + timedelta(seconds=overlap_seconds)
    if old.expires_at is None or old.expires_at > ends:
        old.expires_at = ends
        old.save(update_fields=["expires_at"])
    created = _create(
        workspace_id=old.workspace_id,
        name=old.name,
        expires_at=None,
        created_by_id=actor.user_id,
        scopes=list(old.scopes),
        allowed_ips=list(old.allowed_ips),
    )
    activity_record(
        actor=actor,
        action="api_key.rolled",
        target_type="api_key",
        target_id=old.pk,
        changes=["expires_at"],
    )
    activity_record(
        actor=actor,
        action="api_key.created",
        target_type="api_key",
        target_id=created.api_key.pk,
        changes=["name"],
    )
    return created


# --- usage log ------------------------------------------------------------------------------

_USAGE_TABLE = ApiKeyUsage._meta.db_table
_KEY_TABLE = ApiKey._meta.db_table
_USAGE_COLUMNS = "api_key_id, created_at, method, path, status, ip, user_agent"
_USAGE_INSERT = (
    f"INSERT INTO {_USAGE_TABLE} ({_USAGE_COLUMNS}) "  # noqa: S608
    "VALUES (%s, %s, %s, %s, %s, %s, %s)"
)
_TOUCH = (
    f"UPDATE {_KEY_TABLE} SET last_used_at = %s "  # noqa: S608
    "WHERE id = %s AND (last_used_at IS NULL OR last_used_at < %s)"
)
# PostgreSQL: one statement, one round trip, its own short transaction. set_config(..., true)
# is the function form of `SET LOCAL synchronous_commit TO OFF`: it lasts until this statement's
# transaction ends, and the commit reads it, so the row does not wait for a WAL flush (the WAL
# writer flushes it within wal_writer_delay, 200 ms by default). The optional data-modifying CTE
# moves lastUsedAt forward in the same transaction when the lookup found it stale.
_PG_SYNC_OFF = "sync_off AS (SELECT set_config('synchronous_commit', 'off', true))"
_PG_INSERT = (
    f"WITH {_PG_SYNC_OFF} INSERT INTO {_USAGE_TABLE} ({_USAGE_COLUMNS}) "  # noqa: S608
    "SELECT %s, %s, %s, %s, %s, %s::inet, %s FROM sync_off"
)
_PG_INSERT_AND_TOUCH = (
    f"WITH {_PG_SYNC_OFF}, touch AS ({_TOUCH}) "  # noqa: S608
    f"INSERT INTO {_USAGE_TABLE} ({_USAGE_COLUMNS}) "
    "SELECT %s, %s, %s, %s, %s, %s::inet, %s FROM sync_off"
)


def _valid_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return None


def usage_record(
    *,
    api_key_id: str,
    method: str,
    path: str,
    status: int,
    ip: str | None,
    user_agent: str,
    touch_last_used: bool,
) -> None:
    """Append one usage row; with `touch_last_used`, also move the key's lastUsedAt forward.

    lastUsedAt is written at most once a minute per key (the UPDATE's WHERE re-checks it), so
    the key row never becomes a hot row that serialises a key's concurrent requests.
    """
    now = timezone.now()
    adapt = connection.ops.adapt_datetimefield_value
    usage = [
        api_key_id,
        adapt(now),
        method[:10],
        path[:300],
        status,
        _valid_ip(ip),
        (user_agent or "")[:300],
    ]
    touch = [adapt(now), api_key_id, adapt(now - LAST_USED_RESOLUTION)]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            if touch_last_used:
                cursor.execute(_PG_INSERT_AND_TOUCH, touch + usage)
            else:
                cursor.execute(_PG_INSERT, usage)
            return
        with transaction.atomic():
            cursor.execute(_USAGE_INSERT, usage)
            if touch_last_used:
                cursor.execute(_TOUCH, touch)


# --- the key lookup that writes its request's usage row -----------------------------------------

# The status a request with a live key usually ends with. The lookup writes the usage row with
# it; usage_settle() corrects the row only when the response says otherwise (refusals, errors).
_EXPECTED_STATUS = {"POST": 201, "DELETE": 204}


def rate_counter_key(key_id: str) -> str:
    """The per-key THROTTLE_API_KEY counter (parsalink/core/ratelimit.py)."""
    return f"throttle_api_key_{key_id}"


@dataclass(frozen=True, slots=True)
class OpenedUsage:
    """A usage row the lookup wrote, under the status the request was expected to end with."""

    row_id: int
    created_at: datetime
    status: int


@dataclass(frozen=True, slots=True)
class LoggedLookup:
    row: KeyAuthRow
    usage: OpenedUsage
    # The THROTTLE_API_KEY hit counted in the same statement (table counters), else None.
    rate: Decision | None


def _lookup_logged_sql(*, counted: str, asynchronous: bool) -> str:
    ctes = [f"found AS ({AUTH_SQL})"]
    if asynchronous:
        ctes.insert(0, PG_SYNC_OFF)
    source = "found, sync_off" if asynchronous else "found"
    ctes.append(
        f"logged AS (INSERT INTO {_USAGE_TABLE} ({_USAGE_COLUMNS}) "  # noqa: S608
        f"SELECT found.id, %s, %s, %s, %s, %s::inet, %s FROM {source} RETURNING id)"
    )
    extra = "NULL, NULL"
    if counted:
        ctes.append(f"counted AS ({counted})")
        extra = "(SELECT count FROM counted), (SELECT window_ends_ms FROM counted)"
    return f"WITH {', '.join(ctes)} SELECT found.*, (SELECT id FROM logged), {extra} FROM found"  # noqa: S608


def api_key_lookup_logged(
    *,
    key_id: str,
    method: str,
    path: str,
    ip: str | None,
    user_agent: str,
    rate: tuple[int, float] | None,
) -> LoggedLookup | None:
    """PostgreSQL: the key lookup, its usage row and (table counters) its THROTTLE_API_KEY hit
    in one statement, one round trip; None for an unknown key id (nothing written).

    The row is written before the key is judged, under the expected status, so even a request
    that never reaches the middleware's correction (a killed worker) leaves its evidence;
    `rate` is (limit, period) or None. Outside a transaction the statement commits without
    waiting for the WAL flush, as usage_record does.
    """
    now = timezone.now()
    asynchronous = not connection.in_atomic_block
    expected = _EXPECTED_STATUS.get(method, 200)
    usage = [
        connection.ops.adapt_datetimefield_value(now),
        method[:10],
        path[:300],
        expected,
        _valid_ip(ip),
        (user_agent or "")[:300],
    ]
    params = auth_params(key_id=key_id, now=now) + usage
    counted = None
    if rate is not None:
        limit, period = rate
        source = "found, sync_off" if asynchronous else "found"
        counted = ratelimit.table_hit(
            rate_counter_key(key_id), limit=limit, period=period, source=source
        )
        params += counted.params
    sql = _lookup_logged_sql(counted=counted.sql if counted else "", asynchronous=asynchronous)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        values = cursor.fetchone()
    if values is None:
        return None
    row_id, count, window_ends_ms = values[AUTH_COLUMNS:]
    return LoggedLookup(
        row=auth_row(values),
        usage=OpenedUsage(row_id=row_id, created_at=now, status=expected),
        rate=counted.decide(count, window_ends_ms) if counted else None,
    )


def usage_settle(
    *, usage: OpenedUsage, status: int, touch_last_used: bool, api_key_id: str
) -> None:
    """Give the lookup's usage row the response's status when it was not the expected one, and
    move lastUsedAt forward when the lookup found it stale (at most once a minute per key).
    One statement (PostgreSQL, where the lookup writes rows), committed like usage_record's."""
    corrected = status != usage.status
    if not corrected and not touch_last_used:
        return
    adapt = connection.ops.adapt_datetimefield_value
    asynchronous = not connection.in_atomic_block
    ctes = [PG_SYNC_OFF] if asynchronous else []
    source = " FROM sync_off" if asynchronous else ""
    params: list = []
    if touch_last_used:
        now = timezone.now()
        ctes.append(f"touch AS ({_TOUCH})")
        params += [adapt(now), api_key_id, adapt(now - LAST_USED_RESOLUTION)]
    if corrected:
        # created_at is in the key so a table partitioned by it is searched in one partition.
        sql = f"UPDATE {_USAGE_TABLE} SET status = %s{source} WHERE id = %s AND created_at = %s"  # noqa: S608
        params += [status, usage.row_id, adapt(usage.created_at)]
    else:
        sql = f"SELECT 1{source}"
    if ctes:
        sql = f"WITH {', '.join(ctes)} {sql}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
