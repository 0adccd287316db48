import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings

from activity.actor import Actor
from activity.models import ActivityEvent
from apikeys import crypto
from apikeys.models import ApiKey
from apikeys.services import api_key_revoke
from tests.clients import key_client_for
from tests.factories import key_for, make_user

pytestmark = pytest.mark.django_db

LEAKED = "/api/api-keys/leaked/"


def _unknown_key() -> str:
    """Well-formed with a valid checksum, but no such key exists."""
    return crypto.generate().plain


def _wrong_secret(plain: str) -> str:
    """The id of a real key with another secret (and a valid checksum)."""
    body = plain[: len(crypto.KEY_PREFIX) + 26] + "x" * crypto.SECRET_LENGTH
    return body + crypto.checksum(body)


def _report(api_client, keys, **extra):
    return api_client.post(LEAKED, {"keys": keys, **extra}, format="json")


def test_garbage_is_accepted_and_changes_nothing(api_client, api_key):
    response = _report(api_client, ["hello", "pk_live_nope", "", "x" * 5000])
    assert response.status_code == 202
    assert ActivityEvent.objects.filter(action="api_key.leak_reported").count() == 0
    assert ApiKey.objects.get(pk=api_key.api_key.pk).revoked_at is None


def test_a_mix_revokes_only_the_genuine_live_keys(api_client, user, other_workspace):
    genuine = key_for(user, name="leaked")
    already = key_for(user, name="already")
    api_key_revoke(
        api_key=already.api_key, actor=Actor.system(workspace_id=user.workspace_id, user_id=user.id)
    )
    bystander = key_for(user, name="bystander")
    theirs = key_for(make_user(other_workspace), name="theirs")
    keys = [
        "garbage",
        genuine.plain,
        _unknown_key(),
        already.plain,
        theirs.plain,
        _wrong_secret(bystander.plain),
        genuine.plain,
    ]
    response = _report(api_client, keys, source="https://github.com/acme/repo/blob/main/.env")
    assert response.status_code == 202
    events = ActivityEvent.objects.filter(action="api_key.leak_reported").order_by("target_id")
    assert sorted((e.workspace_id, e.target_id, e.actor_id) for e in events) == sorted(
        [
            (user.workspace_id, genuine.api_key.pk, None),
            (other_workspace.id, theirs.api_key.pk, None),
        ]
    )
    assert all(e.api_key_id is None and e.target_type == "api_key" for e in events)
    revoked = set(ApiKey.objects.filter(revoked_at__isnull=False).values_list("pk", flat=True))
    assert revoked == {genuine.api_key.pk, already.api_key.pk, theirs.api_key.pk}
    # The already revoked key keeps its first revocation and gets no leak event.
    assert not events.filter(target_id=already.api_key.pk).exists()
    assert all(e.changes == ["revoked_at", "revoked_reason", "revoked_source"] for e in events)
    stored = str(list(ActivityEvent.objects.values())) + str(list(ApiKey.objects.values()))
    assert genuine.plain not in stored and theirs.plain not in stored


def test_the_next_request_with_a_reported_key_is_a_401(api_client, api_key):
    client = key_client_for(api_key.plain)
    assert client.get("/api/contacts/").status_code == 200
    assert _report(api_client, [api_key.plain]).status_code == 202
    response = client.get("/api/contacts/")
    assert response.status_code == 401
    assert response.json()["code"] == "key_revoked"


def test_the_answer_is_the_same_for_genuine_unknown_and_garbage(api_client, user):
    answers = [
        _report(api_client, [keys])
        for keys in (key_for(user).plain, _unknown_key(), "garbage", key_for(user).plain)
    ]
    assert {(r.status_code, r.content) for r in answers} == {(202, b"")}


def test_a_report_reads_all_its_keys_in_one_query(api_client, user):
    keys = [_unknown_key() for _ in range(50)] + ["garbage"] * 50
    with CaptureQueriesContext(connection) as queries:
        assert _report(api_client, keys).status_code == 202
    selects = [q for q in queries.captured_queries if q["sql"].startswith("SELECT")]
    assert len(selects) == 1


def test_exactly_100_keys_are_accepted_and_101_refused(api_client, user):
    genuine = key_for(user)
    keys = ["garbage"] * 99 + [genuine.plain]
    assert _report(api_client, keys).status_code == 202
    assert ApiKey.objects.get(pk=genuine.api_key.pk).revoked_at is not None
    response = _report(api_client, [*keys, "one too many"])
    assert response.status_code == 400
    assert set(response.json()) >= {"detail", "code"}


@pytest.mark.parametrize(
    "body",
    [
        {"keys": []},
        {"keys": "pk_live_x"},
        {"keys": [123]},
        {"keys": [None]},
        {"keys": [["nested"]]},
        {},
        {"keys": ["x"], "source": "s" * 501},
        {"keys": ["x"], "source": 5},
        {"keys": ["x"], "extra": 1},
        [],
    ],
)
def test_a_malformed_body_is_a_400(api_client, api_key, body):
    response = api_client.post(LEAKED, body, format="json")
    assert response.status_code == 400, response.content
    assert set(response.json()) >= {"detail", "code"}


def test_a_source_of_500_characters_is_accepted(api_client, api_key):
    assert _report(api_client, [api_key.plain], source="s" * 500).status_code == 202
    assert ApiKey.objects.get(pk=api_key.api_key.pk).revoked_at is not None


def test_credentials_are_not_needed_nor_looked_at(api_client, api_key):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert _report(api_client, [api_key.plain]).status_code == 202
    assert ApiKey.objects.get(pk=api_key.api_key.pk).revoked_at is not None


@override_settings(THROTTLE_LEAK_REPORTS_PER_IP="2/min")
def test_reports_are_throttled_per_client_address(api_client, user):
    assert [_report(api_client, ["garbage"]).status_code for _ in range(2)] == [202, 202]
    response = _report(api_client, [key_for(user).plain])
    assert response.status_code == 429
    assert response.json()["code"] == "throttled" and int(response["Retry-After"]) > 0
    assert not ActivityEvent.objects.filter(action="api_key.leak_reported").exists()
    other = api_client.post(
        LEAKED, {"keys": ["garbage"]}, format="json", REMOTE_ADDR="198.51.100.7"
    )
    assert other.status_code == 202


def test_the_endpoint_is_documented(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"][LEAKED]["post"]
    assert {"202", "400", "429"} <= set(operation["responses"])
    assert operation.get("security") in ([], [{}])


def test_the_owner_sees_why_and_where_from(api_client, jwt_client, api_key):
    source = "https://github.com/acme/repo/blob/main/.env"
    assert _report(api_client, [api_key.plain], source=source).status_code == 202
    body = jwt_client.get(f"/api/api-keys/{api_key.api_key.pk}/").json()
    assert body["revokedReason"] == "leak_reported" and body["revokedAt"] is not None
    assert ApiKey.objects.get(pk=api_key.api_key.pk).revoked_source == source


def test_a_key_revoked_by_a_person_has_no_reason(jwt_client, api_key):
    body = jwt_client.post(f"/api/api-keys/{api_key.api_key.pk}/revoke/").json()
    assert body["revokedAt"] is not None and body["revokedReason"] is None
