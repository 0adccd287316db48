from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from apikeys import crypto
from apikeys.models import ApiKey, ApiKeyUsage
from tests.clients import key_client_for
from tests.core.helpers import redis_caches

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.apikeys.urls")]

PROBE = "/probe/whoami/"


def _rows(api_key):
    return list(ApiKeyUsage.objects.filter(api_key_id=api_key.api_key.id).order_by("id"))


def test_each_key_request_writes_one_usage_row_with_its_fields(key_client, api_key):
    key_client.get(PROBE, HTTP_USER_AGENT="zapier/1.0", REMOTE_ADDR="203.0.113.7")
    [row] = _rows(api_key)
    assert (row.method, row.path, row.status) == ("GET", PROBE, 200)
    assert (row.ip, row.user_agent) == ("203.0.113.7", "zapier/1.0")
    assert timezone.now() - row.created_at < timedelta(minutes=1)


def test_4xx_answers_are_logged_with_their_status(key_client, api_key):
    key_client.get(f"{PROBE}?status=404")
    key_client.get("/api/api-keys/")  # keys may not manage keys: 403
    key_client.post(PROBE, "{not json", content_type="application/json")
    statuses = [(row.method, row.path, row.status) for row in _rows(api_key)]
    assert statuses == [
        ("GET", PROBE, 404),
        ("GET", "/api/api-keys/", 403),
        ("POST", PROBE, 400),
    ]


def test_revoked_expired_and_wrong_secret_attempts_are_logged(jwt_client, key_client, api_key):
    key_id = api_key.api_key.id
    wrong_body = api_key.plain[:34] + crypto.generate().plain[34:66]
    key_client_for(wrong_body + crypto.checksum(wrong_body)).get(PROBE)
    ApiKey.objects.filter(pk=key_id).update(expires_at=timezone.now())
    key_client.get(PROBE)
    ApiKey.objects.filter(pk=key_id).update(expires_at=None, revoked_at=timezone.now())
    key_client.get(PROBE)
    assert [row.status for row in _rows(api_key)] == [401, 401, 401]


def test_malformed_and_unknown_keys_write_no_row(api_key):
    key_client_for(api_key.plain[:-1]).get(PROBE)
    key_client_for(crypto.generate().plain).get(PROBE)
    assert ApiKeyUsage.objects.count() == 0


def test_jwt_requests_write_no_usage_row(jwt_client):
    jwt_client.get(PROBE)
    assert ApiKeyUsage.objects.count() == 0


def test_last_used_at_is_written_at_most_once_a_minute(key_client, api_key):
    key_id = api_key.api_key.id
    with time_machine.travel(timezone.now(), tick=False) as clock:
        key_client.get(PROBE)
        first = ApiKey.objects.get(pk=key_id).last_used_at
        assert first == timezone.now()
        clock.shift(timedelta(seconds=30))
        key_client.get(PROBE)
        assert ApiKey.objects.get(pk=key_id).last_used_at == first
        clock.shift(timedelta(seconds=31))
        key_client.get(PROBE)
        assert ApiKey.objects.get(pk=key_id).last_used_at == timezone.now()
    assert len(_rows(api_key)) == 3


def test_a_key_request_costs_one_statement_that_also_writes_its_usage_row_on_redis(
    key_client, api_key, django_assert_num_queries, settings
):
    # With Redis (production) the key's rate counter costs one Redis round trip, no query.
    settings.CACHES = redis_caches()
    key_client.get(PROBE)  # lastUsedAt is now fresh: no UPDATE on the next request
    with django_assert_num_queries(1) as captured:
        assert key_client.get(PROBE).status_code == 200
    [lookup] = (q["sql"] for q in captured.captured_queries)
    assert "FROM apikeys_apikey k" in lookup and "accounts_user" in lookup
    # Scopes and the address allowlist ride on the same lookup: no query of their own.
    assert "k.scopes" in lookup and "k.allowed_ips" in lookup
    # So does the usage row, written under the expected status; the 200 needs no correction.
    assert "INSERT INTO apikeys_apikeyusage" in lookup
    assert "core_ratecounter" not in lookup and "UPDATE" not in lookup
    [row] = _rows(api_key)[-1:]
    assert row.status == 200


def test_without_redis_the_rate_counter_rides_on_the_same_statement(
    key_client, api_key, django_assert_num_queries
):
    key_client.get(PROBE)
    with django_assert_num_queries(1) as captured:
        assert key_client.get(PROBE).status_code == 200
    [lookup] = (q["sql"] for q in captured.captured_queries)
    assert "FROM apikeys_apikey k" in lookup and "INSERT INTO apikeys_apikeyusage" in lookup
    assert "INSERT INTO core_ratecounter" in lookup and "ON CONFLICT" in lookup


def test_a_status_other_than_the_expected_one_corrects_the_row(
    key_client, api_key, django_assert_num_queries, settings
):
    settings.CACHES = redis_caches()
    key_client.get(PROBE)
    with django_assert_num_queries(2) as captured:
        assert key_client.get("/api/contacts/not-a-contact/").status_code == 404
    assert captured.captured_queries[1]["sql"].startswith("UPDATE apikeys_apikeyusage")
    assert _rows(api_key)[-1].status == 404


def test_a_stale_last_used_at_costs_one_update_after_the_lookup(
    key_client, api_key, django_assert_num_queries, settings
):
    settings.CACHES = redis_caches()
    with django_assert_num_queries(2) as captured:
        key_client.get(PROBE)
    assert "UPDATE apikeys_apikey " in captured.captured_queries[1]["sql"]
    assert ApiKey.objects.get(pk=api_key.api_key.id).last_used_at is not None


def test_requests_no_api_view_authenticated_are_logged_too(key_client, api_key):
    key_client.get("/api/no-such-endpoint/")
    key_client_for(api_key.plain[:-1]).get("/api/no-such-endpoint/")  # malformed: no row
    [row] = _rows(api_key)
    assert (row.path, row.status) == ("/api/no-such-endpoint/", 404)


def test_an_unknown_key_costs_one_lookup_and_writes_nothing(django_assert_num_queries, settings):
    settings.CACHES = redis_caches()  # the per-address failure counter: Redis, not a query
    with django_assert_num_queries(1):
        response = key_client_for(crypto.generate().plain).get(PROBE)
    assert response.status_code == 401 and ApiKeyUsage.objects.count() == 0
