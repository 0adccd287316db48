"""Leak reports: whoever holds a key may kill it (secret scanners, a user who pasted it publicly).

The answer never says which keys were genuine, so the endpoint is no validity oracle: every
entry costs a parse and a keyed hash whatever it is, and the well-formed ids are read in one
query. Each genuine live key is revoked, with its `api_key.leak_reported` event in its own
workspace's log, in one transaction; the key keeps the reason and the reported source. The
events name no person (actorId null): the report comes from outside the workspace; their ip
is the reporter's address. The key itself is never stored or logged.
"""

from django.db import transaction
from django.utils import timezone

from activity.actor import Actor
from activity.services import activity_record, security_event
from apikeys import crypto
from apikeys.models import ApiKey

MAX_KEYS_PER_REPORT = 100
MAX_SOURCE_LENGTH = 500
LEAK_REPORTED = "leak_reported"
# Hashed in place of a malformed entry's secret, so garbage costs what a real key does.
_FILLER_SECRET = "0" * crypto.SECRET_LENGTH


def _parsed_secrets(keys: list[str]) -> dict[str, str]:
    """key id -> secret for the well-formed entries (duplicates collapse)."""
    found = {}
    for raw in keys:
        parsed = crypto.parse(raw)
        if parsed is None:
            crypto.hash_secret(_FILLER_SECRET)
            continue
        found[parsed.key_id] = parsed.secret
    return found


@transaction.atomic
def leaked_keys_revoke(
    *, keys: list[str], source: str = "", ip: str | None = None, user_agent: str = ""
) -> int:
    """Revoke every genuine live key among `keys`; the count is for the operator's log only."""
    secrets_by_id = _parsed_secrets(keys)
    now = timezone.now()
    rows = {
        key.pk: key
        for key in ApiKey.objects.select_for_update()
        .filter(pk__in=list(secrets_by_id))
        .only("id", "workspace_id", "secret_hash", "revoked_at", "expires_at")
    }
    genuine = []
    for key_id, secret in secrets_by_id.items():
        row = rows.get(key_id)
        stored = row.secret_hash if row is not None else ""
        if crypto.secret_matches(secret, stored) and row is not None:
            genuine.append(row)
    revoked = 0
    for api_key in genuine:
        if api_key.revoked_at is not None or (api_key.expires_at and api_key.expires_at <= now):
            continue
        api_key.revoked_at = now
        api_key.revoked_reason = LEAK_REPORTED
        api_key.revoked_source = source
        api_key.save(update_fields=["revoked_at", "revoked_reason", "revoked_source"])
        activity_record(
            actor=Actor(
                workspace_id=api_key.workspace_id, user_id=None, ip=ip, user_agent=user_agent
            ),
            action="api_key.leak_reported",
            target_type="api_key",
            target_id=api_key.pk,
            changes=["revoked_at", "revoked_reason", "revoked_source"],
        )
        revoked += 1
    security_event("api_key_leak_report", entries=len(keys), revoked=revoked, ip=ip)
    return revoked
