from datetime import timedelta

import pytest
from django.utils import timezone

from activity.models import ActivityEvent
from apikeys.models import ApiKey, ApiKeyUsage
from tests.clients import key_client_for
from tests.factories import key_for, make_user

pytestmark = pytest.mark.django_db

KEYS = "/api/api-keys/"
KEY_FIELDS = {
    "id",
    "name",
    "prefix",
    "createdAt",
    "createdBy",
    "lastUsedAt",
    "expiresAt",
    "revokedAt",
    "revokedReason",
    "scopes",
    "allowedIps",
}


def test_create_returns_the_full_key_once(jwt_client, user):
    response = jwt_client.post(KEYS, {"name": "Zapier Integration"}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == KEY_FIELDS | {"key"}
    assert body["id"].startswith("key_") and body["key"].startswith("pk_live_" + body["id"][4:])
    assert body["name"] == "Zapier Integration" and body["createdBy"] == user.id
    assert body["prefix"] == f"pk_live_{body['id'][4:8]}…{body['key'][-4:]}"
    assert body["revokedAt"] is None and body["expiresAt"] is None
    listed = jwt_client.get(KEYS).json()["results"]
    fetched = jwt_client.get(f"{KEYS}{body['id']}/").json()
    assert body["key"] not in str(listed) + str(fetched)
    assert listed == [fetched] and set(fetched) == KEY_FIELDS


def test_create_records_an_event_without_the_key(jwt_client, user):
    body = jwt_client.post(KEYS, {"name": "CI"}, format="json").json()
    event = ActivityEvent.objects.get(action="api_key.created")
    assert (event.actor_id, event.target_type, event.target_id) == (user.id, "api_key", body["id"])
    assert event.workspace_id == user.workspace_id and event.changes == ["name"]
    assert body["key"] not in str(event.__dict__)


def test_create_with_expiry(jwt_client):
    expires = (timezone.now() + timedelta(days=30)).replace(microsecond=0)
    body = jwt_client.post(
        KEYS, {"name": "temp", "expiresAt": expires.isoformat()}, format="json"
    ).json()
    assert ApiKey.objects.get(pk=body["id"]).expires_at == expires


@pytest.mark.parametrize(
    "payload,field",
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "ok", "expiresAt": "2001-01-01T00:00:00Z"}, "expiresAt"),
        ({"name": "ok", "expiresAt": "tomorrow"}, "expiresAt"),
        ({"name": "ok", "scopes": ["all"]}, "scopes"),
    ],
    ids=["missing_name", "blank_name", "long_name", "past_expiry", "bad_expiry", "unknown"],
)
def test_create_rejects_bad_input(jwt_client, payload, field):
    response = jwt_client.post(KEYS, payload, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and field in response.json()["fields"]
    assert ApiKey.objects.count() == 0


def test_list_is_newest_first_and_paginated(jwt_client, user):
    ids = [key_for(user, name=f"k{i}").api_key.id for i in range(3)]
    page = jwt_client.get(f"{KEYS}?pageSize=2").json()
    assert [k["id"] for k in page["results"]] == ids[::-1][:2]
    rest = jwt_client.get(page["next"]).json()
    assert [k["id"] for k in rest["results"]] == ids[:1]


def test_revoke_returns_the_key_and_records_it_once(jwt_client, api_key):
    url = f"{KEYS}{api_key.api_key.id}/revoke/"
    first = jwt_client.post(url)
    assert first.status_code == 200 and first.json()["revokedAt"] is not None
    again = jwt_client.post(url)
    assert again.status_code == 200 and again.json()["revokedAt"] == first.json()["revokedAt"]
    assert ActivityEvent.objects.filter(action="api_key.revoked").count() == 1


def test_roll_issues_a_new_key_and_keeps_the_old_one_for_the_overlap(jwt_client, api_key):
    old_id = api_key.api_key.id
    response = jwt_client.post(f"{KEYS}{old_id}/roll/", {"expiresIn": 3600}, format="json")
    assert response.status_code == 201, response.content
    new = response.json()
    assert new["id"] != old_id and new["name"] == api_key.api_key.name and "key" in new
    old = ApiKey.objects.get(pk=old_id)
    assert timedelta(minutes=59) < old.expires_at - timezone.now() <= timedelta(hours=1)
    assert key_client_for(api_key.plain).get(KEYS).status_code == 403  # authenticated: still valid
    assert key_client_for(new["key"]).get(KEYS).status_code == 403
    actions = set(ActivityEvent.objects.values_list("action", "target_id"))
    assert {("api_key.rolled", old_id), ("api_key.created", new["id"])} <= actions


def test_roll_with_zero_overlap_stops_the_old_key_now(jwt_client, api_key):
    jwt_client.post(f"{KEYS}{api_key.api_key.id}/roll/", {"expiresIn": 0}, format="json")
    response = key_client_for(api_key.plain).get(KEYS)
    assert response.status_code == 401 and response.json()["code"] == "key_expired"


@pytest.mark.parametrize("value", [-1, 604801, "soon", None])
def test_roll_rejects_bad_overlap(jwt_client, api_key, value):
    url = f"{KEYS}{api_key.api_key.id}/roll/"
    response = jwt_client.post(url, {"expiresIn": value}, format="json")
    assert response.status_code == 400 and "expiresIn" in response.json()["fields"]
    assert ApiKey.objects.count() == 1


def test_roll_of_a_revoked_key_is_a_conflict(jwt_client, api_key):
    jwt_client.post(f"{KEYS}{api_key.api_key.id}/revoke/")
    response = jwt_client.post(f"{KEYS}{api_key.api_key.id}/roll/", {}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "key_revoked"


def test_activity_lists_the_keys_usage_newest_first(jwt_client, key_client, api_key):
    key_client.get("/api/contacts/", HTTP_USER_AGENT="zap/2")
    key_client.get("/api/api-keys/")
    response = jwt_client.get(f"{KEYS}{api_key.api_key.id}/activity/?pageSize=1")
    assert response.status_code == 200
    page = response.json()
    [newest] = page["results"]
    assert set(newest) == {"createdAt", "method", "path", "status", "ip", "userAgent"}
    assert (newest["path"], newest["status"]) == ("/api/api-keys/", 403)
    [older] = jwt_client.get(page["next"]).json()["results"]
    assert (older["method"], older["path"], older["status"]) == ("GET", "/api/contacts/", 200)
    assert (older["ip"], older["userAgent"]) == ("127.0.0.1", "zap/2")


@pytest.mark.parametrize(
    "method,suffix",
    [
        ("get", ""),
        ("post", ""),
        ("get", "{id}/"),
        ("post", "{id}/revoke/"),
        ("post", "{id}/roll/"),
        ("get", "{id}/activity/"),
    ],
)
def test_an_api_key_cannot_manage_keys(key_client, api_key, method, suffix):
    url = KEYS + suffix.format(id=api_key.api_key.id)
    response = getattr(key_client, method)(url, {"name": "minted"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "user_token_required"
    assert ApiKey.objects.count() == 1 and ApiKey.objects.get().revoked_at is None


@pytest.mark.parametrize(
    "method,suffix", [("get", ""), ("post", "revoke/"), ("post", "roll/"), ("get", "activity/")]
)
def test_another_workspaces_key_is_not_found(jwt_client, other_workspace, method, suffix):
    foreign = key_for(make_user(other_workspace))
    response = getattr(jwt_client, method)(f"{KEYS}{foreign.api_key.id}/{suffix}", format="json")
    assert response.status_code == 404 and response.json()["code"] == "not_found"
    assert ApiKey.objects.get(pk=foreign.api_key.id).revoked_at is None
    assert ApiKey.objects.count() == 1
    assert foreign.api_key.id not in str(jwt_client.get(KEYS).json())


@pytest.mark.parametrize("key_id", ["nope", "key_", "key_01HX", "ct_01HXZZZZZZZZZZZZZZZZZZZZZZ"])
def test_malformed_ids_are_not_found(jwt_client, key_id):
    assert jwt_client.get(f"{KEYS}{key_id}/").status_code == 404


def test_key_endpoints_require_authentication(api_client, api_key):
    response = api_client.get(KEYS)
    assert response.status_code == 401 and response["WWW-Authenticate"].startswith("Bearer")


def test_key_of_workspace_a_never_sees_workspace_b(api_key, other_workspace):
    outsider = make_user(other_workspace)
    foreign = key_for(outsider, name="theirs")
    client = key_client_for(api_key.plain)
    for url in (f"{KEYS}{foreign.api_key.id}/", "/api/auth/me/", KEYS):
        assert client.get(url).status_code == 403
    assert ApiKeyUsage.objects.filter(api_key_id=foreign.api_key.id).count() == 0
