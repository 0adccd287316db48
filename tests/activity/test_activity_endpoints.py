from datetime import timedelta

import pytest
from django.utils import timezone

from activity.actor import Actor
from activity.models import ActivityEvent
from activity.services import activity_record
from apikeys.models import ApiKey
from tests.factories import make_user

pytestmark = pytest.mark.django_db

LIST = "/api/activity/"
FIELDS = {
    "id",
    "createdAt",
    "action",
    "actorId",
    "apiKeyId",
    "targetType",
    "targetId",
    "ip",
    "userAgent",
    "changes",
}


def record(workspace, *, user=None, key=None, action="contact.updated", at=None, changes=None):
    event = activity_record(
        actor=Actor(
            workspace_id=workspace.id,
            user_id=user.id if user else None,
            api_key_id=key.id if key else None,
            ip="192.0.2.1",
            user_agent="ua/1",
        ),
        action=action,
        target_type="contact",
        target_id="ct_01HX0000000000000000000000",
        changes=changes or ["company"],
    )
    if at is not None:
        ActivityEvent.objects.filter(pk=event.pk).update(created_at=at)
    return event


def ids(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_list_is_newest_first_with_the_contract_fields(jwt_client, workspace, user):
    first = record(workspace, user=user, changes=["company", "email"])
    second = record(workspace, user=user, action="contact.deleted")
    response = jwt_client.get(LIST)
    body = response.json()
    assert set(body) == {"next", "previous", "results"}
    assert any(r["action"] == "auth.login" for r in body["results"])
    rows = [r for r in body["results"] if r["action"].startswith("contact.")]
    assert [r["id"] for r in rows] == [second.id, first.id]
    assert set(rows[0]) == FIELDS
    assert rows[1] == {
        "id": first.id,
        "createdAt": rows[1]["createdAt"],
        "action": "contact.updated",
        "actorId": user.id,
        "apiKeyId": None,
        "targetType": "contact",
        "targetId": "ct_01HX0000000000000000000000",
        "ip": "192.0.2.1",
        "userAgent": "ua/1",
        "changes": ["company", "email"],
    }
    assert rows[1]["createdAt"].endswith("Z")


def test_list_is_cursor_paginated(jwt_client, workspace, user):
    for _ in range(12):
        record(workspace, user=user)
    expected = list(
        ActivityEvent.objects.filter(workspace=workspace)
        .order_by("-id")
        .values_list("id", flat=True)
    )
    seen, url = [], f"{LIST}?pageSize=5"
    while url:
        body = jwt_client.get(url).json()
        seen += [r["id"] for r in body["results"]]
        url = body["next"]
    assert seen == expected


def test_filters(jwt_client, workspace, user):
    colleague = make_user(workspace, email="bob@example.com")
    key = ApiKey.objects.create(
        workspace=workspace, name="k", secret_hash="0" * 64, last_four="abcd"
    )
    now = timezone.now()
    old = record(workspace, user=user, action="contact.created", at=now - timedelta(days=3))
    by_colleague = record(workspace, user=colleague, at=now - timedelta(days=2))
    by_key = record(
        workspace, user=user, key=key, action="contact.deleted", at=now - timedelta(days=1)
    )

    assert ids(jwt_client.get(f"{LIST}?actor={colleague.id}")) == [by_colleague.id]
    assert ids(jwt_client.get(f"{LIST}?apiKey={key.id}")) == [by_key.id]
    assert ids(jwt_client.get(f"{LIST}?action=contact.created")) == [old.id]
    assert ids(jwt_client.get(f"{LIST}?action=contact.created&actor={colleague.id}")) == []
    since = (now - timedelta(days=2, hours=1)).isoformat().replace("+00:00", "Z")
    until = (now - timedelta(hours=12)).isoformat().replace("+00:00", "Z")
    assert ids(jwt_client.get(f"{LIST}?since={since}&until={until}")) == [
        by_key.id,
        by_colleague.id,
    ]
    assert ids(jwt_client.get(f"{LIST}?until={since}")) == [old.id]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("actor=jane", "actor"),
        ("actor=key_01HX0000000000000000000000", "actor"),
        ("apiKey=pk_live_secret", "apiKey"),
        ("action=" + "a" * 65, "action"),
        ("since=yesterday", "since"),
        ("until=2026-13-01T00:00:00Z", "until"),
        ("since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", "until"),
        ("action=%00", "action"),
        ("pageSize=500", "pageSize"),
        ("cursor=bad", "cursor"),
    ],
)
def test_bad_filters_are_a_400(jwt_client, query, field):
    response = jwt_client.get(f"{LIST}?{query}")
    assert response.status_code == 400, response.content
    assert field in response.json()["fields"]


def test_retrieve_one_event(jwt_client, key_client, workspace, user):
    event = record(workspace, user=user)
    for client in (jwt_client, key_client):
        response = client.get(f"{LIST}{event.id}/")
        assert response.status_code == 200
        assert response.json()["id"] == event.id and set(response.json()) == FIELDS
    assert jwt_client.get(f"{LIST}evt_01HX0000000000000000000000/").status_code == 404
    assert jwt_client.get(f"{LIST}not-an-id/").status_code == 404


def test_api_keys_can_read_the_log(key_client, workspace, user):
    event = record(workspace, user=user)
    assert event.id in ids(key_client.get(LIST))


def test_the_log_is_read_only(jwt_client, workspace, user):
    event = record(workspace, user=user)
    assert jwt_client.post(LIST, {"action": "x"}, format="json").status_code == 405
    for method in ("put", "patch", "delete"):
        response = getattr(jwt_client, method)(f"{LIST}{event.id}/", {}, format="json")
        assert response.status_code == 405
    assert ActivityEvent.objects.get(pk=event.pk).action == "contact.updated"


def test_anonymous_is_401(api_client):
    assert api_client.get(LIST).status_code == 401


def test_a_list_request_costs_two_queries(jwt_client, workspace, user, django_assert_num_queries):
    for _ in range(30):
        record(workspace, user=user)
    with django_assert_num_queries(2):
        assert jwt_client.get(f"{LIST}?pageSize=10&action=contact.updated").status_code == 200
