"""A key id with a wrong secret: logged, budgeted per key id and per address, never lastUsedAt."""

import pytest
from django.utils import timezone

from apikeys import crypto
from apikeys.models import ApiKey, ApiKeyUsage
from tests.clients import key_client_for
from tests.factories import key_for

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.apikeys.urls")]

PROBE = "/probe/whoami/"


def _wrong_secret(plain: str) -> str:
    """The same key id with another secret, checksum valid: only the secret is wrong."""
    body = plain[:34] + crypto.generate().plain[34:66]
    return body + crypto.checksum(body)


def _statuses(api_key) -> list[int]:
    rows = ApiKeyUsage.objects.filter(api_key_id=api_key.api_key.id).order_by("id")
    return [row.status for row in rows]


def _last_used(api_key):
    return ApiKey.objects.get(pk=api_key.api_key.id).last_used_at


def test_a_wrong_secret_is_logged_but_never_moves_last_used_at(api_key):
    response = key_client_for(_wrong_secret(api_key.plain)).get(PROBE)
    assert response.status_code == 401 and response.json()["code"] == "key_invalid"
    assert _statuses(api_key) == [401]
    assert _last_used(api_key) is None


def test_a_revoked_or_expired_key_never_moves_last_used_at(key_client, api_key):
    ApiKey.objects.filter(pk=api_key.api_key.id).update(revoked_at=timezone.now())
    assert key_client.get(PROBE).json()["code"] == "key_revoked"
    ApiKey.objects.filter(pk=api_key.api_key.id).update(revoked_at=None, expires_at=timezone.now())
    assert key_client.get(PROBE).json()["code"] == "key_expired"
    assert _statuses(api_key) == [401, 401]
    assert _last_used(api_key) is None


def test_wrong_secrets_are_limited_per_key_id(settings, key_client, api_key, user, caplog):
    settings.THROTTLE_API_KEY_FAILURES = "3/min"
    guesses = [
        key_client_for(_wrong_secret(api_key.plain)).get(PROBE, REMOTE_ADDR=f"198.51.100.{i}")
        for i in range(5)
    ]
    assert [r.status_code for r in guesses] == [401, 401, 401, 429, 429]
    assert guesses[-1].json()["code"] == "throttled"
    assert 1 <= int(guesses[-1]["Retry-After"]) <= 60
    # Still evidence in the key's usage log, and still no lastUsedAt.
    assert _statuses(api_key) == [401, 401, 401, 429, 429]
    assert _last_used(api_key) is None
    # The key's holder is not locked out by someone guessing at its id.
    assert key_client.get(PROBE).status_code == 200
    other = key_for(user, name="other")
    assert key_client_for(_wrong_secret(other.plain)).get(PROBE).status_code == 401
    throttled = [r for r in caplog.records if getattr(r, "event", None) == "throttled"]
    assert {(r.scope, r.apiKeyId) for r in throttled} == {("api_key_failures", api_key.api_key.id)}


def test_failed_keys_are_limited_per_address_whatever_the_key_id(settings, user):
    settings.THROTTLE_API_KEY_FAILURES_PER_IP = "3/min"
    attempts = [_wrong_secret(key_for(user, name=f"k{i}").plain) for i in range(3)]
    attempts.append(crypto.generate().plain)  # an unknown key id counts too
    attempts.append(_wrong_secret(key_for(user, name="k4").plain))
    statuses = [key_client_for(raw).get(PROBE).status_code for raw in attempts]
    assert statuses == [401, 401, 401, 429, 429]
    # Another address has its own budget.
    another = key_client_for(attempts[0]).get(PROBE, REMOTE_ADDR="203.0.113.9")
    assert another.status_code == 401
