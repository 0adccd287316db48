"""Requests refused before any view (plain HTTP, body too large) are in the key's usage log."""

import pytest
import requests

from apikeys.models import ApiKey, ApiKeyUsage
from tests.clients import HttpsAPIClient
from tests.factories import key_for
from tests.live_server import GunicornServer

OVERSIZED = b"x" * (1024 * 1024 + 1)


def _usage(key_id: str) -> list[tuple[str, str, int]]:
    rows = ApiKeyUsage.objects.filter(api_key_id=key_id).order_by("id")
    return [(row.method, row.path, row.status) for row in rows]


@pytest.mark.django_db(transaction=True)
def test_requests_refused_before_any_view_are_logged_for_the_key(live_user):
    created = key_for(live_user)
    bearer = {"Authorization": f"Bearer {created.plain}", "User-Agent": "leaky-script/1.0"}
    plain = GunicornServer()
    plain.env.pop("FORWARDED_ALLOW_IPS", None)
    with plain as server:
        over_http = requests.get(f"{server.url}/api/contacts/", headers=bearer)
    with GunicornServer(env={"FORWARDED_ALLOW_IPS": "127.0.0.1"}) as server:
        too_large = requests.post(
            f"{server.url}/api/contacts/",
            data=OVERSIZED,
            headers={**bearer, "X-Forwarded-Proto": "https", "Content-Type": "application/json"},
        )
    assert over_http.status_code == 403 and over_http.json()["code"] == "https_required"
    assert too_large.status_code == 413 and too_large.json()["code"] == "request_too_large"
    assert _usage(created.api_key.id) == [
        ("GET", "/api/contacts/", 403),
        ("POST", "/api/contacts/", 413),
    ]
    assert {row.user_agent for row in ApiKeyUsage.objects.all()} == {"leaky-script/1.0"}
    # Refused before the secret was checked: evidence, not use.
    assert ApiKey.objects.get(pk=created.api_key.id).last_used_at is None


@pytest.mark.django_db
def test_a_refused_request_without_a_key_costs_no_query(django_assert_num_queries):
    client = HttpsAPIClient()
    with django_assert_num_queries(0):
        over_http = client.get("/api/contacts/", secure=False)
        too_large = client.post(
            "/api/contacts/", OVERSIZED, content_type="application/json", secure=True
        )
    assert (over_http.status_code, too_large.status_code) == (403, 413)
